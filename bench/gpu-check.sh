#!/usr/bin/env bash
# The GPU check (docs/gpu.md): on a machine with an NVIDIA GPU, from the bundle of bench/gpu-prepare.sh, prints
#   1. the device (nvidia-smi, and the device ILGPU opens)
#   2. GPU parity of every carried fixture at the fixture tolerances (forward, every traced sub-step, and Value Zeroing)
#   3. the CLI on the GPU: --device cuda and --device auto against --device cpu
#   4. timings, Markdown rows: the forward on BERT-base-shaped random weights (written on the spot; b1 n128, b32 n128,
#      b32 n512) and Value Zeroing at n = 128 and 512, on the GPU and on all the machine's CPU cores, and PyTorch
#      (CUDA, float32, eager and SDPA attention) on the same weights, with its parity against MixLens's hidden state
# usage: bench/gpu-check.sh            (on the GPU machine; a few minutes)
#        bench/gpu-check.sh --dry-run  (no GPU: ILGPU's CPU accelerator for parity, tiny shapes; tests the script)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bundle=$root/bench/gpu-bundle/mixlens-gpu.tar.xz
work=${GPU_CHECK_WORK:-/tmp/mixlens-gpu-check}
dry=0; [ "${1:-}" = "--dry-run" ] && dry=1
if [ ! -f "$bundle" ]; then echo "error: $bundle missing: run bench/gpu-prepare.sh first (and carry bench/gpu-bundle)" >&2; exit 1; fi

mkdir -p "$work"
if [ ! -x "$work/app/MixLens.Bench" ] || [ "$bundle" -nt "$work/app/MixLens.Bench" ]; then
  rm -rf "$work/app" "$work/shared"
  xz -dc "$bundle" | tar -C "$work" -xf - || { echo "error: cannot unpack $bundle" >&2; exit 1; }
  touch "$work/app/MixLens.Bench"
fi
app=$work/app; shared=$work/shared; scratch=$work/scratch
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_gcServer=0
if [ $dry = 1 ]; then
  gpu=sim; cli_device=cpu; shapes=b1n12,b2n12; vz=12; runs=1; cpu_shapes=b1n16,b2n16; cpu_vz=16
else
  gpu=cuda; cli_device=cuda; shapes=b1n128,b32n128,b32n512; vz=128,512; runs=5; cpu_shapes=$shapes; cpu_vz=128,512
fi
status=0

echo "## device"
nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv,noheader 2>/dev/null || echo "(no nvidia-smi)"
echo "cpu: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "## parity ($gpu)"
timeout 300 "$app/MixLens.Bench" gpu parity --shared "$shared" --device $gpu || status=1
echo
echo "## cli"
text="The quick brown fox jumps over the lazy dog."
model=$shared/models/bert-mlm-random
"$app/mixlens" embed --model "$model" --text "$text" --device cpu > "$work/embed.cpu.txt" || status=1
for d in $cli_device auto; do
  if "$app/mixlens" embed --model "$model" --text "$text" --device $d > "$work/embed.$d.txt" 2> "$work/embed.$d.err"; then
    echo "mixlens embed --device $d: exit 0; $(cat "$work/embed.$d.err")"
    python3 - "$work/embed.cpu.txt" "$work/embed.$d.txt" <<'PY' || status=1
import re, sys
a, b = (list(map(float, re.findall(r"-?\d+\.\d+(?:[eE][-+]?\d+)?", open(p).read()))) for p in sys.argv[1:3])
assert len(a) == len(b) and a, "different output shapes"
print(f"  {len(a)} numbers; max |{sys.argv[2].split('.')[-2]} - cpu| = {max(abs(x - y) for x, y in zip(a, b)):.3g}")
PY
  else
    echo "mixlens embed --device $d: exit $? ($(cat "$work/embed.$d.err"))"
    [ $dry = 1 ] && [ $d = cuda ] || status=1
  fi
done
if [ $dry = 1 ]; then
  "$app/mixlens" embed --model "$model" --text "$text" --device cuda > /dev/null 2> "$work/embed.cuda.err"
  echo "mixlens embed --device cuda (no GPU here): exit $?: $(cat "$work/embed.cuda.err")"
fi
echo
echo "## timings (median of $runs after a warm-up; Value Zeroing on the CPU at n = 512: one run)"
echo "| engine | device | workload | median ms | min ms | runs |"
echo "|---|---|---|---:|---:|---:|"
mkdir -p "$scratch"
if [ $dry = 1 ]; then
  # the simulated GPU is far too slow for BERT-base: check the code path on a 2-layer model, not a timing
  timeout 300 "$app/MixLens.Bench" gpu time --shared "$shared" --scratch "$scratch" --device sim --shapes $shapes --vz $vz \
    --runs 1 --model "$shared/models/bert-mlm-random" --gemm 33x65x17 || status=1
else
  timeout 420 "$app/MixLens.Bench" gpu time --shared "$shared" --scratch "$scratch" --device $gpu --shapes $shapes --vz $vz \
    --runs $runs --dump "$scratch/dump" --gemm 4096x3072x768 || status=1
fi
timeout 420 "$app/MixLens.Bench" gpu time --shared "$shared" --scratch "$scratch" --device cpu --shapes $cpu_shapes --vz $cpu_vz \
  --runs 3 --dump "$scratch/dump" || status=1
timeout 300 python3 "$root/bench/gpu_torch.py" --model "$scratch/bert-base-random" --dump "$scratch/dump" --shapes $shapes --runs $runs || status=1
echo
echo "gpu-check: $([ $status = 0 ] && echo done || echo 'FAILURES above') (load after: $(cut -d' ' -f1-3 /proc/loadavg))"
exit $status
