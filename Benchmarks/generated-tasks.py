#!/usr/bin/env python3
"""The generated task set: the fixture's three tasks and five wordings per task
(Tests/Fixtures/README.md), operands drawn from a seeded RNG, PER_TASK prompts per task as JSONL.
Unlike the dev set, generated items may have been in the tiny model's training data (it saw most
addition pairs), so accuracies on it are not comparable with the dev tables; what it measures is
how often two settings give different answers, on 10x as many prompts.
Usage: python3 Benchmarks/generated-tasks.py [PER_TASK=200] > tasks.jsonl"""
import json, random, sys
per_task = int(sys.argv[1]) if len(sys.argv) > 1 else 200
rng = random.Random(20261123)
wordings = {
    "reverse": ["reverse: {}", "reverse {}", "Reverse: {}", "Reverse the string: {}", "reverse the letters of {}"],
    "add": ["add {} and {}", "Add {} and {}.", "what is {} + {}?", "{} + {} =", "sum of {} and {}"],
    "sort": ["sort: {}", "sort {}", "Sort: {}", "Sort the digits: {}", "sort these digits: {}"],
}
def operand():   # 1- and 2-digit operands equally likely
    return rng.randrange(10) if rng.random() < 0.5 else rng.randrange(10, 100)
for task in ["reverse", "add", "sort"]:
    for i in range(per_task):
        template = rng.randrange(5)
        if task == "reverse":
            word = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 6)))
            prompt, answer = wordings[task][template].format(word), word[::-1]
        elif task == "add":
            a, b = operand(), operand()
            prompt, answer = wordings[task][template].format(a, b), str(a + b)
        else:
            digits = [rng.randrange(10) for _ in range(rng.randint(3, 6))]
            prompt = wordings[task][template].format(" ".join(map(str, digits)))
            answer = " ".join(map(str, sorted(digits)))
        print(json.dumps({"id": f"gen-{task}-{i:03d}", "task": task, "prompt": prompt, "answer": answer, "template": template}))
