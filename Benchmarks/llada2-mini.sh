#!/usr/bin/env bash
# Issue 31's figures: the synthetic LLaDA2.0-mini (q4) against the dense LLaDA-8B (q4-lean, its
# default dual cache) in one run, at prompt 512, gen 256, block 32, 2 threads, one token per step
# (LLaDA 2: --threshold 1 never passes, so each step commits the schedule's one token;
# --no-early-stop runs every block). Then LLaDA 2's scaling with the block length and the prompt.
# Each run is one `llada bench --json` object in OUT_DIR; the load average is recorded before each.
# A run whose JSON is already in OUT_DIR is not repeated (a script stopped half-way resumes).
#
# Usage: bash Benchmarks/llada2-mini.sh MINI.llada DENSE.llada OUT_DIR [BEFORE_LLADA]
#   MINI.llada:  llada-synth DIR --preset llada2-mini; llada-quantize DIR -o MINI.llada --type q4
#   DENSE.llada: llada-synth DIR --preset 8b;          llada-quantize DIR -o DENSE.llada --type q4-lean
#   BEFORE_LLADA: another llada binary run on the mini in the same session (a before/after pair).
set -euo pipefail
cd "$(dirname "$0")/.."
mini=$1 dense=$2 out=$3 before=${4:-}
llada=.build/release/llada
mkdir -p "$out"
bash Benchmarks/host.sh | tee "$out/host.txt"
run() {  # name, binary, bench arguments…
  local name=$1 binary=$2; shift 2
  [ -s "$out/$name.json" ] && return
  echo "$name: load $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/load.txt"
  "$binary" bench --threads 2 --json "$@" > "$out/$name.json"
}
llada2=(--steps-per-block 32 --threshold 1 --no-early-stop)
run dense-8b "$llada" --model "$dense" --prompt-length 512 --gen-length 256 --block-length 32
run mini "$llada" --model "$mini" --prompt-length 512 --gen-length 256 --block-length 32 "${llada2[@]}"
if [ -n "$before" ]; then
  run mini-before "$before" --model "$mini" --prompt-length 512 --gen-length 256 --block-length 32 "${llada2[@]}"
fi
for block in 8 16 32 64; do
  run "scaling-block$block" "$llada" --model "$mini" --prompt-length 512 --gen-length 64 --block-length "$block" \
    --steps-per-block "$block" --threshold 1 --no-early-stop
done
for prompt in 64 2048; do
  run "scaling-prompt$prompt" "$llada" --model "$mini" --prompt-length "$prompt" --gen-length 64 --block-length 32 "${llada2[@]}"
done
python3 Benchmarks/llada2-mini-table.py "$out"
