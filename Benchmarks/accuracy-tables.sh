#!/usr/bin/env bash
# Dev-task accuracy of the bundled tiny model in f32 / f16 / q8 / q4, for the tables in
# docs/quantization.md and docs/decoding.md.
# Usage: bash Benchmarks/accuracy-tables.sh [OUT_DIR]   (needs `swift build -c release` first)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/llada-tables}
mkdir -p "$out"
model=Tests/Fixtures/llada-tiny-tasks
tasks=Tests/Fixtures/tasks-dev.jsonl
bin=.build/release
for type in f16 q8 q4; do
  [ -f "$out/tiny-$type.lpk" ] || $bin/llada-quantize "$model" -o "$out/tiny-$type.lpk" --type $type >/dev/null
done
bash Benchmarks/host.sh   # the CPU and kernel level (answers are the same on every level; the record says where they ran)
echo
summary() { "$bin/llada" eval --tasks "$tasks" --json --threads 1 --no-early-stop "$@" | tail -1; }
row() { python3 -c 'import json,sys; d=json.loads(sys.argv[1]); t=d["per_task"]; print("%.3f (%s/%s/%s), %.1f calls" % (d["accuracy"], round(t["reverse"]*20), round(t["add"]*20), round(t["sort"]*20), d["mean_model_calls"]))' "$1"; }

echo "## Reference settings (generate.py), exact match on 60 dev tasks: overall (correct reverse/add/sort of 20 each)"
echo "| setting | f32 | f16 | q8 | q4 |"
echo "|---|---|---|---|---|"
for s in "32 32 32 0" "32 16 8 0" "32 32 16 0" "32 12 8 0" "32 32 32 1"; do
  set -- $s
  line="| gen $1 steps $2 block $3$( [ "$4" = 0 ] || echo " cfg $4")"
  for m in "$model" "$out/tiny-f16.lpk" "$out/tiny-q8.lpk" "$out/tiny-q4.lpk"; do
    line="$line | $(row "$(summary --model "$m" --gen-length $1 --steps $2 --block-length $3 --cfg-scale $4 --cache none)")"
  done
  echo "$line |"
done

echo
echo "## Caches and parallel decoding (gen 32, steps 32, block 8)"
echo "| cache | threshold | f32 | q8 | q4 |"
echo "|---|---|---|---|---|"
for cache in none prefix dual; do
  for thr in none 0.9; do
    line="| $cache | $thr"
    extra=(); if [ "$thr" != none ]; then extra=(--threshold "$thr"); fi
    for m in "$model" "$out/tiny-q8.lpk" "$out/tiny-q4.lpk"; do
      line="$line | $(row "$(summary --model "$m" --gen-length 32 --steps 32 --block-length 8 --cache $cache "${extra[@]}")")"
    done
    echo "$line |"
  done
done
