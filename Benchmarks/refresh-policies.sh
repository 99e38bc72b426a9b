#!/usr/bin/env bash
# The dual cache's refresh policies (--refresh) against Fast-dLLM's exact dual cache
# (every-block) on the tiny fixture model: exact-match accuracy on the 60 dev tasks and on the
# generated prompts (Benchmarks/generated-tasks.py), answers that differ from every-block's, and
# model calls. Greedy, no early stop, f32 checkpoint and q4.
# Usage: bash Benchmarks/refresh-policies.sh [PER_TASK=200] [OUT_DIR]   (needs `swift build -c release`)
set -euo pipefail
cd "$(dirname "$0")/.."
per_task=${1:-200}
out=${2:-/tmp/llada-refresh}
mkdir -p "$out"
model=Tests/Fixtures/llada-tiny-tasks
bin=.build/release
python3 Benchmarks/generated-tasks.py "$per_task" > "$out/generated.jsonl"
cp Tests/Fixtures/tasks-dev.jsonl "$out/dev.jsonl"
[ -f "$out/tiny-q4.lpk" ] || $bin/llada-quantize "$model" -o "$out/tiny-q4.lpk" --type q4 >/dev/null
bash Benchmarks/host.sh   # the CPU and kernel level (answers are the same on every level)
echo
echo "| model | setting | refresh | dev correct | dev ≠ | generated correct | generated ≠ | calls per answer |"
echo "|---|---|---|---|---|---|---|---|"
for weights in f32 q4; do
  path=$model; [ $weights = q4 ] && path=$out/tiny-q4.lpk
  for setting in "32 32 8" "32 32 4"; do
    set -- $setting
    for refresh in every-block keep-prompt every-2-blocks every-4-blocks; do
      for set in dev generated; do
        $bin/llada eval --model "$path" --tasks "$out/$set.jsonl" --json --threads 1 --no-early-stop \
          --gen-length $1 --steps $2 --block-length $3 --cache dual --refresh $refresh > "$out/$weights-$3-$refresh-$set.jsonl"
      done
      python3 - "$weights" "gen $1 steps $2 block $3" "$refresh" "$out" "$weights-$3" <<'PY'
import json, sys
weights, setting, refresh, out, stem = sys.argv[1:]
def load(path):
    return {r["id"]: r for r in map(json.loads, open(path)) if "id" in r}
cells, calls = [], []
for task_set in ["dev", "generated"]:
    rows = load(f"{out}/{stem}-{refresh}-{task_set}.jsonl")
    exact = load(f"{out}/{stem}-every-block-{task_set}.jsonl")
    correct = sum(r["correct"] for r in rows.values())
    differ = sum(rows[i]["text"] != exact[i]["text"] for i in rows)
    cells += [f"{correct}/{len(rows)}", str(differ)]
    calls += [r["model_calls"] for r in rows.values()]
print(f"| {weights} | {setting} | {refresh} | {' | '.join(cells)} | {sum(calls) / len(calls):.1f} |")
PY
    done
  done
done
