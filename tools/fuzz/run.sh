#!/usr/bin/env bash
# Coverage-guided fuzzing of MixLens's file parsers with AFL++ and SharpFuzz (issue 17; docs/robustness.md, "Fuzzing").
#
#   tools/fuzz/run.sh [SECONDS] [TARGET...]     each target for SECONDS (default 180), one after another
#
# Builds tools/fuzz/Runner into tools/fuzz/out/build, instruments MixLens.Engine.dll and MixLens.Analysis.dll there with
# SharpFuzz, then runs afl-fuzz on each target (default: all, `dotnet tools/fuzz/out/build/mixlens-fuzz.dll list`),
# seeded from tools/fuzz/seeds/TARGET, with the dictionaries of tools/fuzz/dict. Findings go to
# tools/fuzz/out/findings/TARGET/default/{crashes,hangs}; triage one with
#   dotnet tools/fuzz/out/plain/mixlens-fuzz.dll replay TARGET FILE     (uninstrumented build, prints the exception)
# and, once fixed, copy it to tests/FuzzRegressions/TARGET/ (tests/Fuzz replays that folder on every test run).
# A summary table (executions, edges, crashes, hangs per target) is printed and written to tools/fuzz/out/summary.md.
# Needs: the .NET 10 SDK, AFL++ (Debian: apt-get install afl++) and the SharpFuzz tool
# (dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0); the script installs the last two when missing
# and it can (root). Not part of .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
seconds="${1:-180}"
shift || true
out="$here/out"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PATH="$PATH:$HOME/.dotnet/tools"
export MIXLENS_SHARED="${MIXLENS_SHARED:-$(cd "$repo/.." && pwd)/shared}"

if ! command -v afl-fuzz >/dev/null; then
  echo "afl-fuzz not found: installing AFL++ (apt-get install afl++)" >&2
  apt-get install -y -q afl++ >/dev/null || { echo "cannot install AFL++; install the Debian package afl++" >&2; exit 1; }
fi
if ! command -v sharpfuzz >/dev/null; then
  echo "sharpfuzz not found: installing SharpFuzz.CommandLine 2.3.0 (dotnet tool)" >&2
  dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0 >/dev/null
fi

# Two builds: out/build is instrumented (afl-fuzz runs it), out/plain is not (replay and triage).
# MIXLENS_FUZZ_REUSE_BUILD=1 keeps the builds of the previous run.
if [ "${MIXLENS_FUZZ_REUSE_BUILD:-0}" != 1 ] || [ ! -f "$out/build/mixlens-fuzz.dll" ]; then
  rm -rf "$out/build" "$out/plain"
  dotnet build "$here/Runner/MixLens.Fuzz.csproj" -c Release -o "$out/plain" -v quiet -nologo >/dev/null
  cp -r "$out/plain" "$out/build"
  for dll in MixLens.Engine.dll MixLens.Analysis.dll; do sharpfuzz "$out/build/$dll" >/dev/null; done
fi
mkdir -p "$out/findings"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(dotnet "$out/plain/mixlens-fuzz.dll" list | awk '{print $1}')
fi

dicts_for() {
  case "$1" in
    safetensors) echo "-x $here/dict/json.dict -x $here/dict/safetensors.dict" ;;
    pickle|checkpoint) echo "-x $here/dict/pickle.dict" ;;
    evaluate-tsv) echo "" ;;
    *) echo "-x $here/dict/json.dict" ;;
  esac
}

# AFL++ settings for a managed target: the binary is `dotnet` (no AFL instrumentation of its own; SharpFuzz maps
# the coverage of the instrumented assemblies into AFL's shared memory), no CPU governor or core-dump checks, a
# 2 GiB GC heap limit so that an allocation sized by an untrusted number fails as OutOfMemoryException (a crash)
# instead of taking the machine's memory, and a 10 s timeout per input (a hang).
export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1
export DOTNET_GCHeapHardLimit=0x80000000

summary="$out/summary.md"
{
  echo "| target | seconds | executions | execs/s | corpus | edges found | map coverage | crashes | hangs |"
  echo "|---|---|---|---|---|---|---|---|---|"
} > "$summary"
for target in "${targets[@]}"; do
  findings="$out/findings/$target"
  rm -rf "$findings"
  echo "== $target: fuzzing for $seconds s ($(uptime | sed 's/.*load/load/'))"
  # shellcheck disable=SC2046
  afl-fuzz -i "$here/seeds/$target" -o "$findings" -t 10000 -m none -V "$seconds" $(dicts_for "$target") \
    -- dotnet "$out/build/mixlens-fuzz.dll" fuzz "$target" > "$out/$target.log" 2>&1 || {
      echo "afl-fuzz failed for $target; last lines of $out/$target.log:" >&2; tail -n 20 "$out/$target.log" >&2; continue; }
  stats="$findings/default/fuzzer_stats"
  get() { awk -F' *: *' -v k="$1" '$1 == k {print $2}' "$stats"; }
  row="| $target | $seconds | $(get execs_done) | $(get execs_per_sec) | $(get corpus_count) | $(get edges_found) | $(get bitmap_cvg) | $(get saved_crashes) | $(get saved_hangs) |"
  echo "$row" >> "$summary"
  echo "   $(get execs_done) executions, $(get edges_found) edges, $(get saved_crashes) crashes, $(get saved_hangs) hangs"
done
echo
cat "$summary"
