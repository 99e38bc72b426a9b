#!/usr/bin/env bash
# Throughput table for Benchmarks/README.md: `llada bench --json` over models × cache × threshold.
# Usage: bash Benchmarks/throughput-table.sh LABEL=MODEL [LABEL=MODEL ...]
#   env: PROMPT (64) GEN (128) STEPS (128) BLOCK (32) THREADS (2) CACHES ("none prefix dual")
#        THRESHOLDS ("none 0.9") NONE_STEPS (steps for cache none; default STEPS)
# Needs `swift build -c release`. Prints the host line (Benchmarks/host.sh), then one markdown row
# per run; raw JSON (with `cpu` and `kernel_path`) goes to $OUT (/tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
PROMPT=${PROMPT:-64} GEN=${GEN:-128} STEPS=${STEPS:-128} BLOCK=${BLOCK:-32} THREADS=${THREADS:-2}
CACHES=${CACHES:-none prefix dual} THRESHOLDS=${THRESHOLDS:-none 0.9} NONE_STEPS=${NONE_STEPS:-$STEPS}
OUT=${OUT:-/tmp/llada-throughput}
mkdir -p "$OUT"
bash Benchmarks/host.sh   # the CPU and kernel level the table was measured on (also in each raw JSON)
echo
echo "| model | cache | threshold | steps run | load s | prefill s | step median / p90 s | tokens/s | median step: matmul / attention / other / sampler | KV MB | peak RSS MB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for spec in "$@"; do
  label=${spec%%=*} model=${spec#*=}
  for cache in $CACHES; do
    for thr in $THRESHOLDS; do
      steps=$STEPS; [ "$cache" = none ] && steps=$NONE_STEPS
      extra=(); [ "$thr" != none ] && extra=(--threshold "$thr")
      json="$OUT/$label-$cache-$thr.json"
      .build/release/llada bench --model "$model" --prompt-length "$PROMPT" --gen-length "$GEN" --steps "$steps" \
        --block-length "$BLOCK" --cache "$cache" --threads "$THREADS" --force --json "${extra[@]}" > "$json"
      python3 - "$json" "$label" "$cache" "$thr" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
mb = lambda b: "%.0f" % (b / 1e6)
print("| %s | %s | %s | %d | %.1f | %.2f | %.3f / %.3f | %.2f | %.0f / %.0f / %.0f / %.0f %% | %s | %s |" % (
    sys.argv[2], sys.argv[3], sys.argv[4], d["model_calls"], d["load_seconds"], d["prefill_seconds"],
    d["step_seconds_median"], d["step_seconds_p90"], d["tokens_per_second"],
    *[100 * d["median_step"][k + "_share"] for k in ("matmul", "attention", "other_forward", "sampler")],
    mb(d["kv_cache_bytes"]), mb(d["peak_rss_bytes"])))
PY
    done
  done
done
