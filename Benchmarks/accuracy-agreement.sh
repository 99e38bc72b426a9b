#!/usr/bin/env bash
# q8 against f32 on a larger generated task set than tasks-dev.jsonl: same three tasks and five
# wordings per task as the fixture (Tests/Fixtures/README.md), operands drawn from a seeded RNG.
# Unlike the dev set, generated items may have been in the tiny model's training data (it saw most
# addition pairs), so the accuracy is not comparable with the dev tables; what this measures is
# how often q8 and f32 give different answers, on 10× as many prompts.
# Usage: bash Benchmarks/accuracy-agreement.sh [PER_TASK=200] [OUT_DIR]   (needs `swift build -c release`)
set -euo pipefail
cd "$(dirname "$0")/.."
per_task=${1:-200}
out=${2:-/tmp/llada-agreement}
mkdir -p "$out"
model=Tests/Fixtures/llada-tiny-tasks
bin=.build/release
python3 Benchmarks/generated-tasks.py "$per_task" > "$out/tasks.jsonl"
[ -f "$out/tiny-q8.lpk" ] || $bin/llada-quantize "$model" -o "$out/tiny-q8.lpk" --type q8 >/dev/null
bash Benchmarks/host.sh   # the CPU and kernel level (answers are the same on every level)
echo
echo "| setting | f32 correct | q8 correct | answers that differ (f32 right → q8 wrong / f32 wrong → q8 right) |"
echo "|---|---|---|---|"
for s in "32 32 32 0" "32 16 8 0" "32 32 16 0" "32 12 8 0" "32 32 32 1"; do
  set -- $s
  name="gen $1 steps $2 block $3$( [ "$4" = 0 ] || echo " cfg $4")"
  args=(--tasks "$out/tasks.jsonl" --json --threads 1 --no-early-stop --gen-length $1 --steps $2 --block-length $3 --cfg-scale $4 --cache none)
  $bin/llada eval --model "$model" "${args[@]}" > "$out/f32.jsonl" &
  $bin/llada eval --model "$out/tiny-q8.lpk" "${args[@]}" > "$out/q8.jsonl"
  wait
  python3 - "$name" "$out/f32.jsonl" "$out/q8.jsonl" <<'PY'
import json, sys
def load(path):
    rows = [json.loads(line) for line in open(path)]
    return {r["id"]: r["correct"] for r in rows if "id" in r}
f32, q8 = load(sys.argv[2]), load(sys.argv[3])
lost = sum(f32[i] and not q8[i] for i in f32)
gained = sum(q8[i] and not f32[i] for i in f32)
print(f"| {sys.argv[1]} | {sum(f32.values())}/{len(f32)} | {sum(q8.values())}/{len(q8)} | {lost + gained} ({lost} / {gained}) |")
PY
done
