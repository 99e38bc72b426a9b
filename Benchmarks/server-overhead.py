#!/usr/bin/env python3
"""The server's cost per request against `llada generate`, and its throughput by concurrency.

    python3 Benchmarks/server-overhead.py LLADA_BINARY MODEL.lpk TASKS.jsonl [N] [sequential]

For N tasks (default 20), sequentially: `llada generate --json`'s generation seconds and model
calls, and the same request's round trip through `llada serve` (openai client, same settings)
with the server's model calls (its log line) and its own generation seconds (the
X-LLaDA-Generation-Seconds header): the overhead is the round trip minus that. Then, unless `sequential`, 8 x N requests at
concurrency 1, 4 and 8.
Medians; prints one JSON object, with the CPU and kernel level it ran on (`host`: Benchmarks/host.sh).
"""
import concurrent.futures
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

import openai

LLADA, MODEL, TASKS = sys.argv[1:4]
N = int(sys.argv[4]) if len(sys.argv) > 4 else 20
SEQUENTIAL = len(sys.argv) > 5 and sys.argv[5] == "sequential"
FLAGS = ["--gen-length", "32", "--steps", "32", "--block-length", "8"]
tasks = [json.loads(line) for line in open(TASKS)][:N]
host = json.loads(subprocess.run(["bash", os.path.join(os.path.dirname(os.path.abspath(__file__)), "host.sh"), "--json"],
                                 env={**os.environ, "LLADA": os.path.abspath(LLADA)}, capture_output=True, text=True, check=True).stdout)

generated = []
for task in tasks:
    out = subprocess.run([LLADA, "generate", "--model", MODEL, "--prompt", task["prompt"], "--json", *FLAGS],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    generated.append((result["seconds"], result["model_calls"]))

server = subprocess.Popen([LLADA, "serve", "--model", MODEL, "--port", "0", "--max-queue", "64", "--model-id", "bench"],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
port = int(re.search(r":(\d+) ", server.stderr.readline()).group(1))
log = []
threading.Thread(target=lambda: [log.append(line) for line in server.stderr], daemon=True).start()
client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="none", max_retries=0)


def ask(task):
    """Round-trip seconds and the server's generation seconds (X-LLaDA-Generation-Seconds)."""
    began = time.monotonic()
    raw = client.chat.completions.with_raw_response.create(model="bench", messages=[{"role": "user", "content": task["prompt"]}],
                                                           max_tokens=32, extra_body={"steps": 32, "block_length": 8})
    return time.monotonic() - began, float(raw.headers["x-llada-generation-seconds"])


for task in tasks[:min(3, N)]:
    ask(task)  # warm-up
latencies = [ask(task) for task in tasks]
time.sleep(0.3)
server_calls = [int(m.group(1)) for m in (re.search(r"calls=(\d+)", line) for line in log[-N:]) if m]
# Inside the server: its log line's seconds (request received to response ready) minus generation.
inside = [float(m.group(1)) for m in (re.search(r" (\d+\.\d+)s$", line) for line in log[-N:]) if m]
inside_overhead = [i - g for i, (_, g) in zip(inside, latencies)]
throughput = {}
for concurrency in () if SEQUENTIAL else (1, 4, 8):
    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(ask, tasks * 8))
    throughput[str(concurrency)] = round(8 * N / (time.monotonic() - began), 1)
server.terminate()
server.wait()
print(json.dumps({
    "host": host,
    "tasks": N,
    "generate_seconds_median": round(statistics.median(s for s, _ in generated), 5),
    "generate_model_calls_median": statistics.median(c for _, c in generated),
    "server_round_trip_seconds_median": round(statistics.median(t for t, _ in latencies), 5),
    "server_generation_seconds_median": round(statistics.median(g for _, g in latencies), 5),
    "server_overhead_seconds_median": round(statistics.median(t - g for t, g in latencies), 5),
    "server_overhead_fraction_median": round(statistics.median((t - g) / t for t, g in latencies), 4),
    "server_inside_overhead_seconds_median": round(statistics.median(inside_overhead), 5) if inside_overhead else None,
    "server_model_calls_median": statistics.median(server_calls) if server_calls else None,
    "requests_per_second_by_concurrency": throughput,
}))
