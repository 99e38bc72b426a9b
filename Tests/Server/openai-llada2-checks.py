#!/usr/bin/env python3
"""`llada serve` on the tiny LLaDA 2 (a block-causal MoE) against the real `openai` client.

    python3 Tests/Server/openai-llada2-checks.py LLADA_BINARY LLADA2_DIRECTORY TASKS.jsonl

Uses the server harness of openai-checks.py (servers on 127.0.0.1, port 0, stopped by SIGTERM).
Checks: chat and completions, streamed or not, equal to what `llada generate` prints with the
same settings; a multi-turn conversation through the family's template; the defaults a client
sees (steps_per_block, the block cache, threshold 0.95); the diffusion events of whole blocks;
the settings LLaDA 2 does not take refused as 400s naming the field; 4 clients x 10 tasks equal
to `llada generate`. Prints a JSON line of measurements last; exits non-zero on the first
failed check.
"""
import concurrent.futures
import importlib.util
import json
import os
import subprocess
import time

spec = importlib.util.spec_from_file_location("openai_checks", os.path.join(os.path.dirname(__file__), "openai-checks.py"))
harness = importlib.util.module_from_spec(spec)
spec.loader.exec_module(harness)
check, Server, LLADA, MODEL, TASKS = harness.check, harness.Server, harness.LLADA, harness.MODEL, harness.TASKS

# LLaDA 2's settings: 32 answer tokens at most, blocks of 8 cut from position 0, 8 steps per block.
SETTINGS = ["--gen-length", "32", "--block-length", "8", "--steps-per-block", "8"]
EXTRA = {"steps_per_block": 8, "block_length": 8}


def generate(prompt, raw=False):
    args = [LLADA, "generate", "--model", MODEL, "--prompt", prompt, *SETTINGS] + (["--raw"] if raw else [])
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout[:-1]


def main():
    measured = {}
    server = Server(*SETTINGS)
    client = server.client()

    status, _, data = server.raw("GET", "/v1/models")
    defaults = json.loads(data)["data"][0]["llada_defaults"]
    check(status == 200 and defaults["steps_per_block"] == 8 and defaults["steps"] is None and defaults["cache"] == "block"
          and defaults["threshold"] == 0.95, f"defaults {defaults}")

    prompt = "reverse: abcdef"
    expected = generate(prompt)
    check(expected != "", "generate printed an answer")
    chat = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}], max_tokens=32,
                                          extra_body=EXTRA)
    check(chat.choices[0].message.content == expected, f"chat {chat.choices[0].message.content!r} != generate {expected!r}")
    check(chat.choices[0].finish_reason == "stop", f"finish_reason {chat.choices[0].finish_reason}")
    deltas = [c.choices[0].delta.content for c in client.chat.completions.create(
        model=server.model, messages=[{"role": "user", "content": prompt}], max_tokens=32, extra_body=EXTRA, stream=True)
        if c.choices and c.choices[0].delta.content]
    check("".join(deltas) == expected, f"streamed {deltas!r} != {expected!r}")
    # Without extra fields the server's own settings apply: the same answer.
    plain = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}], max_tokens=32)
    check(plain.choices[0].message.content == expected, f"server defaults: {plain.choices[0].message.content!r}")

    raw_prompt = "sort: 6 5 9 2 8"
    raw_expected = generate(raw_prompt, raw=True)
    completion = client.completions.create(model=server.model, prompt=raw_prompt, max_tokens=32, extra_body=EXTRA)
    check(completion.choices[0].text == raw_expected, f"completion {completion.choices[0].text!r} != {raw_expected!r}")

    # A conversation: the template renders every turn (one system turn first).
    turns = [{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt},
             {"role": "assistant", "content": expected}, {"role": "user", "content": raw_prompt}]
    multi = client.chat.completions.create(model=server.model, messages=turns, max_tokens=32, extra_body=EXTRA)
    check(multi.choices[0].finish_reason in ("stop", "length") and multi.usage.prompt_tokens > chat.usage.prompt_tokens,
          f"conversation: {multi}")

    # Diffusion events: the canvas of whole blocks; every step commits inside it.
    status, _, data = server.raw("POST", "/v1/chat/completions", json.dumps(
        {"messages": [{"role": "user", "content": prompt}], "max_tokens": 32, "stream": True, "llada_events": True, **EXTRA}))
    lines = data.decode().splitlines()
    starts = [json.loads(line[6:]) for line in lines if line.startswith("data: {\"block_length\"")]
    steps = [json.loads(line[6:]) for line in lines if line.startswith("data: {\"block\"")]
    check(status == 200 and len(starts) == 1 and starts[0]["gen_length"] == 32 and starts[0]["steps_per_block"] == 8,
          f"llada.start {starts}")
    canvas = len(starts[0]["canvas"])
    check(canvas >= 32 and all(position < canvas for step in steps for position in step["committed"]), f"canvas {canvas}")
    measured["event_steps"] = len(steps)

    def body_error(body, param, contains):
        got, _, data = server.raw("POST", "/v1/chat/completions", json.dumps(body))
        error = json.loads(data)["error"]
        check(got == 400 and error["param"] == param and contains in error["message"], f"{body}: {got} {error}")
    hello = {"messages": [{"role": "user", "content": prompt}], "max_tokens": 32}
    body_error({**hello, "steps": 32}, "steps", "steps_per_block")
    body_error({**hello, "cache": "dual"}, "cache", "none, block")
    body_error({**hello, "cfg_scale": 1.5}, "cfg_scale", "LLaDA 2")
    body_error({**hello, "remasking": "margin"}, "remasking", "LLaDA 2")
    body_error({**hello, "steps_per_block": 0}, "steps_per_block", "between 1")
    again = client.chat.completions.create(model=server.model, messages=hello["messages"], max_tokens=32, extra_body=EXTRA)
    check(again.choices[0].message.content == expected, "served after the bad requests")

    # 4 clients x 10 tasks, each answer equal to `llada generate`'s.
    tasks = [json.loads(line) for line in open(TASKS)][:10]
    wanted = {task["prompt"]: generate(task["prompt"]) for task in tasks}

    def ask(task):
        answer = server.client().chat.completions.create(model=server.model, messages=[{"role": "user", "content": task["prompt"]}],
                                                         max_tokens=32, extra_body=EXTRA)
        return task["prompt"], answer.choices[0].message.content
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(ask, tasks * 4))
    wrong = [(p, a) for p, a in results if a != wanted[p]]
    check(not wrong, f"{len(wrong)} answers differ from llada generate, e.g. {wrong[:2]}")
    measured.update(load_requests=len(results), requests_per_second=round(len(results) / (time.time() - start), 2))
    server.stop()
    print(json.dumps(measured))


if __name__ == "__main__":
    main()
