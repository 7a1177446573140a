#!/usr/bin/env bash
# Prepares bench/gpu-bundle/ (git-ignored) for bench/gpu-check.sh on a GPU machine that has no .NET SDK, no network
# and no ../shared: one compressed archive, mixlens-gpu.tar.xz, holding
#   app/     a self-contained linux-x64 publish of the CLI (mixlens) and of the bench (MixLens.Bench), in one folder
#   shared/  the small models with their encoder fixtures (random-bert-tiniest and the five 2-layer family models),
#            and what the BERT-base-shaped random model is written from (bench/Peers/BertBasePeer.cs): the peer's
#            config.json, model.onnx and model.safetensors.header, and the bert-base-uncased tokenizer files
# The real checkpoints (all-MiniLM-L6-v2, minilm-l6-sst2) stay behind: they would not fit the 64 MiB that travels.
# Send it with the working tree (the device tool's carry: ["bench/gpu-bundle"]), then run bench/gpu-check.sh there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$(cd "${MIXLENS_SHARED:-$root/../shared}" && pwd)
out=$root/bench/gpu-bundle
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

publish() {
  dotnet publish "$1" -c Release -r linux-x64 --self-contained true -o "$stage/app" \
    -p:DebugType=none -p:GenerateDocumentationFile=false -p:InvariantGlobalization=true -nologo -v quiet
}
publish "$root/src/Cli/MixLens.Cli.csproj"
publish "$root/bench/MixLens.Bench.csproj"

mkdir -p "$stage/shared/models" "$stage/shared/fixtures" "$stage/shared/peers/bert-base-random" "$stage/shared/models/all-MiniLM-L6-v2"
for m in random-bert-tiniest bert-mlm-random bert-tokcls-random roberta-random distilbert-random electra-random; do
  cp -r "$shared/models/$m" "$stage/shared/models/"
  cp -r "$shared/fixtures/$m" "$stage/shared/fixtures/"
done
cp "$shared/peers/bert-base-random/"{config.json,model.onnx,model.safetensors.header} "$stage/shared/peers/bert-base-random/"
cp "$shared/models/all-MiniLM-L6-v2/"{tokenizer.json,vocab.txt,tokenizer_config.json,special_tokens_map.json} "$stage/shared/models/all-MiniLM-L6-v2/"
chmod -R u+w "$stage/shared"

mkdir -p "$out"
rm -f "$out/mixlens-gpu.tar.xz"
tar -C "$stage" -cf - app shared | xz -T2 -6 > "$out/mixlens-gpu.tar.xz"
size=$(stat -c %s "$out/mixlens-gpu.tar.xz")
echo "bench/gpu-bundle/mixlens-gpu.tar.xz: $((size / 1048576)) MiB ($(du -sh "$stage/app" | cut -f1) app, $(du -sh "$stage/shared" | cut -f1) shared before compression)"
if [ "$size" -gt $((60 * 1048576)) ]; then
  echo "error: the bundle is over 60 MiB; it must travel with the working tree within 64 MiB" >&2
  exit 1
fi
