#!/usr/bin/env bash
# A synthetic LLaDA-8B sharded exactly as each published checkpoint (the real
# model.safetensors.index.json of Instruct and of LLaDA-1.5), converted to q4-lean and generated
# from: the loader, converter and CLI on the real 8B layout. Needs about 21 GB free per release in
# WORK (default: a temporary directory), removed at the end.
#   bash Benchmarks/published-layout-8b.sh [WORK]
set -euo pipefail
cd "$(dirname "$0")/.."
work=${1:-$(mktemp -d)}
mkdir -p "$work"
bin=.build/release
bash Benchmarks/host.sh   # the CPU and kernel level of the timings below
for release in instruct 1.5; do
  dir="$work/synth-8b-$release"
  rm -rf "$dir" "$dir.lpk"
  index=Tests/Fixtures/llada-8b-configs/$release/model.safetensors.index.json
  echo "== $release: llada-synth --preset 8b --release $release --index $index"
  /usr/bin/time -f "synth: %e s, %M KB peak RSS" $bin/llada-synth "$dir" --preset 8b --release "$release" --index "$index"
  cmp "$dir/model.safetensors.index.json" "$index" && echo "index: byte-identical to the published one"
  for name in config.json generation_config.json tokenizer_config.json special_tokens_map.json; do
    cmp "$dir/$name" "Tests/Fixtures/llada-8b-configs/$release/$name" && echo "$name: byte-identical"
  done
  /usr/bin/time -f "convert: %e s, %M KB peak RSS" $bin/llada-quantize "$dir" -o "$dir.lpk" --type q4-lean
  $bin/llada info "$dir.lpk" | head -3
  /usr/bin/time -f "generate: %e s, %M KB peak RSS" $bin/llada generate --model "$dir.lpk" --prompt "-5 plus 3" \
    --gen-length 32 --steps 32 --block-length 32 --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("generate:", len(d["output_ids"]), "ids,", d["steps"], "model calls,", round(d["seconds"], 1), "s")'
  rm -rf "$dir" "$dir.lpk"
done
[ -n "${1:-}" ] || rm -rf "$work"
