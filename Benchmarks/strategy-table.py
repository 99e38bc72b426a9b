#!/usr/bin/env python3
"""Sampling strategies on the tiny fixture's 60 dev tasks: exact-match accuracy and diversity
(distinct answers over 8 seeds per prompt) at steps = gen, gen/2, gen/4, for docs/decoding.md.

Usage: python3 Benchmarks/strategy-table.py [MODEL]   (after `swift build -c release`)
"""
import json, subprocess, sys, collections

MODEL = sys.argv[1] if len(sys.argv) > 1 else "Tests/Fixtures/llada-tiny-tasks"
TASKS = "Tests/Fixtures/tasks-dev.jsonl"
GEN, BLOCK, SEEDS = 32, 8, 8
CONFIGS = [  # (name, flags, stochastic)
    ("greedy (reference)", [], False),
    ("token temperature 0.7", ["--temperature", "0.7"], True),
    ("token temperature 1.0", ["--temperature", "1.0"], True),
    ("position temperature 0.5", ["--position-temperature", "0.5"], True),
    ("position temperature 1.0", ["--position-temperature", "1.0"], True),
    ("cosine schedule", ["--schedule", "cosine"], False),
    ("exp schedule", ["--schedule", "exp"], False),
    ("margin confidence", ["--remasking", "margin"], False),
    ("entropy confidence", ["--remasking", "entropy"], False),
    ("remask committed", ["--remask-committed"], False),
]

def run(flags, steps, seed):
    command = [".build/release/llada", "eval", "--model", MODEL, "--tasks", TASKS, "--json", "--threads", "1",
               "--gen-length", str(GEN), "--block-length", str(BLOCK), "--steps", str(steps), "--seed", str(seed),
               "--cache", "none"] + flags
    lines = subprocess.run(command, check=True, capture_output=True, text=True).stdout.splitlines()
    return [json.loads(line) for line in lines if '"summary"' not in line]

# The CPU and kernel level (answers are the same on every level; the record says where they ran).
print(subprocess.run(["bash", "Benchmarks/host.sh"], check=True, capture_output=True, text=True).stdout)
print(f"| strategy | steps {GEN} | steps {GEN // 2} | steps {GEN // 4} |")
print("|---|---|---|---|")
for name, flags, stochastic in CONFIGS:
    cells = []
    for steps in (GEN, GEN // 2, GEN // 4):
        answers = collections.defaultdict(list)
        correct = total = 0
        for seed in range(SEEDS if stochastic else 1):
            for item in run(flags, steps, seed):
                answers[item["id"]].append(item["text"].strip())
                correct += item["correct"]
                total += 1
        diversity = sum(len(set(v)) for v in answers.values()) / len(answers)
        cells.append(f"{correct / total:.3f} / {diversity:.2f}")
    print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
