#!/usr/bin/env python3
"""`llada serve` against the real `openai` client (pinned in .ci/setup), on the tiny fixture.

    python3 Tests/Server/openai-checks.py LLADA_BINARY MODEL.lpk TASKS.jsonl

Starts its own servers on 127.0.0.1 with port 0 (the port is read from the server's first
stderr line) and stops them with SIGTERM, which must end them with status 0. Checks: chat
and completions, streamed or not, equal to what `llada generate` prints; every error case of
docs/server.md; a client that disconnects mid-stream; a bounded load test (8 clients x 25
tasks). Prints a JSON line of measurements last; exits non-zero on the first failed check.
"""
import atexit
import concurrent.futures
import http.client
import json
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import openai

LLADA, MODEL, TASKS = sys.argv[1:4]
# Settings both sides use: 32 answer tokens, 4 blocks of 8, one token per step.
SETTINGS = ["--gen-length", "32", "--steps", "32", "--block-length", "8"]
EXTRA = {"steps": 32, "block_length": 8}


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


class Server:
    def __init__(self, *flags):
        self.process = subprocess.Popen([LLADA, "serve", "--model", MODEL, "--port", "0", *flags],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        atexit.register(lambda: self.process.poll() is None and self.process.kill())
        line = self.process.stderr.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+) \(model (.+)\)", line)
        check(match is not None, f"no listening line: {line!r}")
        self.port, self.model = int(match.group(1)), match.group(2)
        self.log = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stderr:
            self.log.append(line.rstrip("\n"))

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def client(self, key="none", retries=0):
        return openai.OpenAI(base_url=self.url + "/v1", api_key=key, max_retries=retries, timeout=120)

    def raw(self, method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), data

    def metrics(self):
        status, _, data = self.raw("GET", "/metrics")
        check(status == 200, f"/metrics answered {status}")
        return {line.split()[0]: float(line.split()[1]) for line in data.decode().splitlines() if line and not line.startswith("#")}

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        status = self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        check(status == 0, f"SIGTERM: exit status {status}, log {self.log[-3:]}")
        check(self.log and self.log[-1] == "llada serve: stopped", f"last log line {self.log[-1:]!r}")


def generate(prompt, raw=False):
    """The text `llada generate` prints (its final newline removed)."""
    args = [LLADA, "generate", "--model", MODEL, "--prompt", prompt, *SETTINGS] + (["--raw"] if raw else [])
    result = subprocess.run(args, capture_output=True, text=True, check=True)
    return result.stdout[:-1]


def error_of(call):
    try:
        call()
    except openai.APIStatusError as error:
        return error
    check(False, "expected an error")


def main():
    tasks = [json.loads(line) for line in open(TASKS)][:25]
    measured = {}
    server = Server()
    client = server.client()

    # Chat, completions, streamed and not: the same text as `llada generate`.
    prompt = "reverse: abcdef"
    expected = generate(prompt)
    chat = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}],
                                          max_tokens=32, extra_body=EXTRA)
    check(chat.choices[0].message.content == expected, f"chat {chat.choices[0].message.content!r} != generate {expected!r}")
    check(chat.choices[0].finish_reason == "stop", f"finish_reason {chat.choices[0].finish_reason}")
    check(chat.usage.prompt_tokens > 0 and chat.usage.completion_tokens > 0, f"usage {chat.usage}")
    deltas, finish, usage = [], None, None
    for chunk in client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}],
                                                max_tokens=32, extra_body=EXTRA, stream=True,
                                                stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            if choice.delta.content:
                deltas.append(choice.delta.content)
            finish = choice.finish_reason or finish
    check("".join(deltas) == expected, f"streamed deltas {deltas!r} do not join to {expected!r}")
    check(finish == "stop" and usage is not None and usage.completion_tokens == chat.usage.completion_tokens,
          f"stream end: finish {finish}, usage {usage}")
    raw_prompt = "sort: 6 5 9 2 8"
    raw_expected = generate(raw_prompt, raw=True)
    completion = client.completions.create(model=server.model, prompt=raw_prompt, max_tokens=32, extra_body=EXTRA)
    check(completion.choices[0].text == raw_expected, f"completion {completion.choices[0].text!r} != {raw_expected!r}")
    streamed = "".join(c.choices[0].text for c in client.completions.create(
        model=server.model, prompt=raw_prompt, max_tokens=32, extra_body=EXTRA, stream=True) if c.choices)
    check(streamed == raw_expected, f"streamed completion {streamed!r} != {raw_expected!r}")
    # A system message goes through the template as the real Jinja template renders it.
    system = client.chat.completions.create(model=server.model, max_tokens=32, extra_body=EXTRA,
                                            messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": prompt}])
    check(system.choices[0].finish_reason in ("stop", "length"), "system message")
    # stop strings cut the answer before them; max_tokens cuts it with finish_reason length.
    cut = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}],
                                         max_tokens=32, extra_body=EXTRA, stop=[expected[2:4]])
    check(cut.choices[0].message.content == expected[:2] and cut.choices[0].finish_reason == "stop", f"stop: {cut.choices[0]}")
    short = client.completions.create(model=server.model, prompt=raw_prompt, max_tokens=3, extra_body={"steps": 3, "block_length": 3})
    check(short.usage.completion_tokens <= 3, f"max_tokens 3: {short.usage}")

    # Diffusion events on request: every step's commits, then the usual chunks.
    status, headers, data = server.raw("POST", "/v1/chat/completions", json.dumps(
        {"messages": [{"role": "user", "content": prompt}], "max_tokens": 32, "stream": True, "llada_events": True, **EXTRA}))
    steps = [json.loads(line[6:]) for line in data.decode().splitlines() if line.startswith("data: {\"block\"")]
    check(status == 200 and headers.get("Content-Type") == "text/event-stream" and steps and "committed" in steps[0],
          f"llada events: {status} {data[:200]!r}")

    starts = [json.loads(line[6:]) for line in data.decode().splitlines() if line.startswith("data: {\"block_length\"")]
    check(len(starts) == 1 and starts[0]["gen_length"] == 32 and starts[0]["canvas"] == [None] * 32, f"llada.start: {starts}")
    check(all(len(step["pieces"]) == len(step["ids"]) and step["seconds"] >= 0 for step in steps), f"step pieces: {steps[:2]}")

    # Infill: what `llada infill` prints, non-streamed and streamed with its canvas.
    infill_args = ["--prompt", "sort: 6 5 9 2 8", "--text", "2 [MASK*5] 9"]
    infill_cli = json.loads(subprocess.run([LLADA, "infill", "--model", MODEL, *infill_args, "--json"], capture_output=True,
                                           text=True, check=True).stdout)
    infill_body = {"prompt": "sort: 6 5 9 2 8", "text": "2 [MASK*5] 9"}
    status, _, data = server.raw("POST", "/v1/infill", json.dumps(infill_body))
    filled = json.loads(data)
    check(status == 200 and filled["text"] == infill_cli["text"] and filled["fills"] == infill_cli["fills"]
          and filled["model_calls"] == infill_cli["model_calls"], f"infill {status} {filled} != llada infill {infill_cli}")
    status, _, data = server.raw("POST", "/v1/infill", json.dumps({**infill_body, "stream": True, "llada_events": True}))
    lines = [line for line in data.decode().splitlines() if line]
    start = json.loads(next(line[6:] for line in lines if line.startswith("data: {\"block_length\"")))
    last = json.loads([line for line in lines if line.startswith("data: {")][-1][6:])
    check(start["canvas"][:2] == ["2", " "] and start["canvas"][2:7] == [None] * 5 and last["text"] == infill_cli["text"]
          and lines[-1] == "data: [DONE]", f"streamed infill: {start} … {last}")

    # Every error case: an OpenAI error object naming the field.
    def body_error(body, status, param=None, contains=None, path="/v1/chat/completions", method="POST", headers=None):
        got, response_headers, data = server.raw(method, path, body, headers)
        error = json.loads(data)["error"]
        check(got == status, f"{body!r:.60}: status {got}, want {status}: {error}")
        check(param is None or error["param"] == param, f"param {error['param']}, want {param}")
        check(contains is None or contains in error["message"], f"message {error['message']!r} lacks {contains!r}")
        return response_headers
    body_error("{not json", 400, contains="not valid JSON")
    body_error("[1, 2]", 400, contains="JSON object")
    body_error(json.dumps({"messages": "hi"}), 400, param="messages")
    body_error(json.dumps({"messages": [{"role": "robot", "content": "x"}]}), 400, param="messages[0].role")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x"}], "temperature": "hot"}), 400, param="temperature")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x"}], "max_tokens": 32, "steps": 7, "block_length": 8}),
               400, param="steps", contains="steps 7 must be a multiple")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x"}], "cache": "huge"}), 400, param="cache")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x"}], "refresh": "every-1-blocks"}), 400, param="refresh")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x"}], "refresh": "keep-prompt", "cache": "prefix"}), 400,
               param="refresh", contains="needs cache dual")
    body_error(json.dumps({"prompt": 5}), 400, param="prompt", path="/v1/completions")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x " * 300}], "max_tokens": 32}), 400, param="messages",
               contains="context")
    body_error(json.dumps({"messages": [{"role": "user", "content": "x"}], "model": "gpt-4"}), 404, param="model")
    body_error(None, 404, path="/v1/embeddings", method="GET")
    allow = body_error(None, 405, path="/v1/chat/completions", method="GET")
    check(allow.get("Allow") == "POST", f"405 Allow: {allow}")
    body_error("x" * (2 << 20), 413, contains="exceeds")
    body_error(json.dumps({"prompt": "x"}), 400, param="text", path="/v1/infill")
    body_error(json.dumps({"text": "no holes"}), 400, param="text", contains="no mask placeholder", path="/v1/infill")
    body_error(json.dumps({"text": "a [MASK*0] b"}), 400, param="text", contains="malformed", path="/v1/infill")
    body_error(json.dumps({"text": "a [MASK]", "padding": 4}), 400, param="padding", path="/v1/infill")
    body_error(json.dumps({"text": "a [MASK*300]"}), 400, param="text", contains="max_sequence_length", path="/v1/infill")
    body_error(json.dumps({"text": "a [MASK*4]", "block_length": 5}), 400, param="block_length", path="/v1/infill")
    body_error(json.dumps({"text": "a [MASK]", "remasking": "best"}), 400, param="remasking", path="/v1/infill")
    body_error(json.dumps({"text": "a [MASK]", "steps": 100}), 400, param="steps", contains="canvas length", path="/v1/infill")
    # OpenAI fields the server does not implement: a 400 naming each; their harmless default forms pass.
    hello = {"messages": [{"role": "user", "content": prompt}], "max_tokens": 32, **EXTRA}
    for name, value in [("logprobs", True), ("top_logprobs", 2), ("tools", [{"type": "function", "function": {"name": "f"}}]),
                        ("tool_choice", "auto"), ("response_format", {"type": "json_object"}), ("logit_bias", {"5": 1}),
                        ("presence_penalty", 0.5), ("frequency_penalty", 1), ("functions", [{"name": "f"}]), ("audio", {})]:
        body_error(json.dumps({**hello, name: value}), 400, param=name, contains="not supported")
    body_error(json.dumps({"prompt": "x", "suffix": "y"}), 400, param="suffix", path="/v1/completions")
    harmless = {"response_format": {"type": "text"}, "tools": [], "tool_choice": "none", "logprobs": False,
                "presence_penalty": 0, "frequency_penalty": 0, "logit_bias": {}}
    status, _, data = server.raw("POST", "/v1/chat/completions", json.dumps({**hello, **harmless}))
    check(status == 200 and json.loads(data)["choices"][0]["message"]["content"] == expected,
          f"harmless default fields: {status} {data[:200]!r}")
    harmless_sdk = client.chat.completions.create(model=server.model, messages=hello["messages"], max_tokens=32, extra_body=EXTRA,
                                                  response_format={"type": "text"}, tool_choice="none", tools=[], logprobs=False)
    check(harmless_sdk.choices[0].message.content == expected, "harmless default fields through the client")
    status, _, data = server.raw("POST", "/v1/chat/completions", json.dumps(
        {"messages": [{"role": "user", "content": prompt}], "max_tokens": 32, "threshold": None, **EXTRA}))
    check(status == 200 and json.loads(data)["choices"][0]["message"]["content"] == expected, f"threshold null: {status} {data[:200]!r}")
    bad = error_of(lambda: client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": "x"}], top_p=2))
    check(isinstance(bad, openai.BadRequestError) and "top_p" in bad.message, f"top_p 2: {bad}")
    # After all of that the server still serves.
    again = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}], max_tokens=32, extra_body=EXTRA)
    check(again.choices[0].message.content == expected, "served after the bad requests")

    # A client that disconnects mid-stream: its generation stops within a step, the next request is served.
    before = server.metrics()["llada_model_calls_total"]
    long_request = json.dumps({"messages": [{"role": "user", "content": prompt}], "max_tokens": 224, "steps": 224,
                               "block_length": 224, "cache": "none", "cfg_scale": 1, "stream": True})
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as raw:
        raw.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + b"Content-Length: %d\r\n\r\n" % len(long_request) + long_request.encode())
        received = b""
        while b": step" not in received:
            piece = raw.recv(4096)
            check(piece, f"the stream ended before a step: {received!r}")
            received += piece
    started = time.monotonic()
    next_answer = client.chat.completions.create(model=server.model, messages=[{"role": "user", "content": prompt}],
                                                 max_tokens=32, extra_body=EXTRA)
    measured["after_disconnect_seconds"] = round(time.monotonic() - started, 4)
    check(next_answer.choices[0].message.content == expected, "answer after a disconnect")
    time.sleep(0.5)  # lets the reader thread take the server's log line of that request
    calls = server.metrics()["llada_model_calls_total"] - before - next_answer_calls(server, prompt)
    measured["abandoned_generation_model_calls"] = calls
    check(0 < calls < 224, f"the abandoned generation ran {calls} of 224 model calls")
    server.stop()

    # Authentication: 401 without the key, served with it.
    secured = Server("--api-key", "s3cret")
    status, _, data = secured.raw("GET", "/v1/models")
    check(status == 401 and json.loads(data)["error"]["code"] == "invalid_api_key", f"no key: {status} {data!r}")
    check(isinstance(error_of(lambda: secured.client("wrong").models.list()), openai.AuthenticationError), "wrong key")
    check([m.id for m in secured.client("s3cret").models.list().data] == [secured.model], "models with the key")
    check(secured.raw("GET", "/health")[0] == 200, "/health needs no key")
    secured.stop()

    # A full queue: 503 with Retry-After; SIGTERM with a generation in flight still exits 0.
    busy = Server("--max-queue", "0")
    holder = threading.Thread(target=lambda: busy.raw("POST", "/v1/chat/completions", long_request.replace('"stream": true', '"stream": false')))
    holder.start()
    while busy.metrics()["llada_generations_running"] < 1:
        time.sleep(0.01)
    status, headers, data = busy.raw("POST", "/v1/chat/completions", json.dumps({"messages": [{"role": "user", "content": "x"}]}))
    check(status == 503 and headers.get("Retry-After") == "1" and json.loads(data)["error"]["code"] == "queue_full",
          f"full queue: {status} {headers} {data!r}")
    # Streamed too: the 503 comes before any status line of a stream, never as an event inside a 200.
    status, headers, data = busy.raw("POST", "/v1/chat/completions",
                                     json.dumps({"messages": [{"role": "user", "content": "x"}], "stream": True}))
    check(status == 503 and headers.get("Retry-After") == "1" and headers.get("Content-Type") == "application/json"
          and json.loads(data)["error"]["code"] == "queue_full", f"streamed, full queue: {status} {headers} {data!r}")
    # So the openai client retries it by itself (honouring Retry-After) until the holder is done.
    refused_before = sum(" 503 " in line for line in busy.log)
    stream = busy.client(retries=30).chat.completions.create(model=busy.model, messages=[{"role": "user", "content": tasks[0]["prompt"]}],
                                                             max_tokens=32, extra_body=EXTRA, stream=True)
    streamed_text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    retries = sum(" 503 " in line for line in busy.log) - refused_before
    check(retries >= 1 and streamed_text == generate(tasks[0]["prompt"]),
          f"the client's retries of a full queue: {retries} retries, answer {streamed_text!r}")
    measured.update(full_queue_client_retries=retries)
    holder.join(timeout=60)
    # SIGTERM with a generation in flight.
    holder = threading.Thread(target=lambda: busy.raw("POST", "/v1/chat/completions", long_request.replace('"stream": true', '"stream": false')))
    holder.start()
    while busy.metrics()["llada_generations_running"] < 1:
        time.sleep(0.01)
    busy.stop()
    holder.join(timeout=60)

    # The time limit: the generation is stopped and the request refused with 504 (streaming: an
    # error event, then [DONE]). That generation takes seconds; the limit is half a second.
    limited = Server("--timeout", "0.5")
    status, _, data = limited.raw("POST", "/v1/chat/completions", long_request.replace('"stream": true', '"stream": false'))
    check(status == 504 and json.loads(data)["error"]["code"] == "timeout", f"time limit: {status} {data!r}")
    status, _, data = limited.raw("POST", "/v1/chat/completions", long_request)
    events = [line for line in data.decode().splitlines() if line.startswith("data: ")]
    check(status == 200 and '"code":"timeout"' in events[-2] and events[-1] == "data: [DONE]", f"streamed time limit: {events[-2:]}")
    limited.stop()

    # Load: 8 clients x 25 tasks, each answer as `llada generate` prints it.
    expected_answers = {task["id"]: generate(task["prompt"]) for task in tasks}
    loaded = Server("--max-queue", "16")
    load_client = loaded.client()

    def ask(task):
        began = time.monotonic()
        answer = load_client.chat.completions.create(model=loaded.model, messages=[{"role": "user", "content": task["prompt"]}],
                                                     max_tokens=32, extra_body=EXTRA)
        return task["id"], answer.choices[0].message.content, time.monotonic() - began

    began = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(ask, [task for task in tasks for _ in range(8)]))
    elapsed = time.monotonic() - began
    wrong = [(i, text) for i, text, _ in results if text != expected_answers[i]]
    check(not wrong, f"{len(wrong)} answers differ from llada generate, e.g. {wrong[:2]}")
    latencies = sorted(seconds for _, _, seconds in results)
    final = loaded.metrics()
    fivexx = sum(value for key, value in final.items() if key.startswith('llada_requests_total{status="5'))
    check(fivexx == 0 and final["llada_queue_depth"] == 0 and final["llada_generations_running"] == 0, f"after load: {final}")
    measured.update(load_requests=len(results), load_clients=8, p50_seconds=round(statistics.median(latencies), 4),
                    p99_seconds=round(latencies[int(0.99 * (len(latencies) - 1))], 4),
                    requests_per_second=round(len(results) / elapsed, 2))
    loaded.stop()
    print(json.dumps(measured))


def next_answer_calls(server, prompt):
    """Model calls of the short request, from its log line."""
    for line in reversed(server.log):
        match = re.search(r"POST /v1/chat/completions 200 prompt=\d+ answer=\d+ calls=(\d+)", line)
        if match:
            return int(match.group(1))
    return 0


if __name__ == "__main__":
    main()
