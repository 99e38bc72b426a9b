#!/usr/bin/env bash
# Output ids of two `llada` binaries on the fixture's 60 dev tasks, in every cache mode, on the f32
# checkpoint and a q4 file: a refactor must not change one id.
# Usage: bash Scripts/compare-generations.sh OLD_BIN_DIR NEW_BIN_DIR   (each holds llada and llada-quantize)
set -euo pipefail
cd "$(dirname "$0")/.."
old=$1 new=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=Tests/Fixtures/llada-tiny-tasks
"$new/llada-quantize" "$model" -o "$work/tiny-q4.lpk" --type q4 >/dev/null
settings=(
  "--cache none"
  "--cache prefix"
  "--cache dual"
  "--cache dual --refresh keep-prompt"
  "--cache dual --refresh every-2-blocks"
  "--cache none --threshold 0.9"
  "--cache dual --threshold 0.9"
  "--cache none --cfg-scale 1"
  "--cache none --remasking margin --schedule cosine"
  "--cache none --remask-committed"
)
same=0 differ=0
for m in "$model" "$work/tiny-q4.lpk"; do
  for s in "${settings[@]}"; do
    for bin in "$old" "$new"; do
      # shellcheck disable=SC2086
      "$bin/llada" eval --model "$m" --tasks Tests/Fixtures/tasks-dev.jsonl --json --threads 1 \
        --gen-length 32 --steps 32 --block-length 8 $s | python3 -c '
import json, sys
for line in sys.stdin:
    d = json.loads(line)
    if "output_ids" in d: print(d["id"], d["output_ids"])' > "$work/$(basename "$bin")-ids.txt"
    done
    if cmp -s "$work/$(basename "$old")-ids.txt" "$work/$(basename "$new")-ids.txt"; then
      same=$((same + 1)); echo "same    $(basename "$m") $s"
    else
      differ=$((differ + 1)); echo "DIFFER  $(basename "$m") $s"
    fi
  done
done
echo "$same settings identical, $differ differ"
[ "$differ" = 0 ]
