#!/usr/bin/env bash
# The CPU and kernel level a benchmark script runs on, as `llada bench` records them (its `cpu`
# and `kernel_path`, from a tiny run on the fixture): one line, "host: <cpu>; kernels <level>",
# or with --json one object {"cpu": {...}, "kernel_path": "..."}. The scripts in Benchmarks/ put
# it at the top of their output, so a figure always says which CPU it came from.
# Usage: bash Benchmarks/host.sh [--json]   (needs `swift build -c release`; LLADA: another llada binary)
set -euo pipefail
cd "$(dirname "$0")/.."
"${LLADA:-.build/release/llada}" bench --model Tests/Fixtures/llada-tiny-tasks --prompt-length 8 --gen-length 8 \
  --steps 8 --block-length 8 --threads 1 --force --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
if sys.argv[1:] == ["--json"]:
    print(json.dumps({"cpu": d["cpu"], "kernel_path": d["kernel_path"]}, sort_keys=True))
else:
    print("host: %s; kernels %s" % (d["cpu"]["description"], d["kernel_path"]))' "$@"
