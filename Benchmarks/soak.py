#!/usr/bin/env python3
"""Sustained load on `llada serve`: N clients for T minutes (or a bounded number of requests).

    python3 Benchmarks/soak.py --llada .build/release/llada --model tiny-q4.lpk \
        --tasks Tests/Fixtures/tasks-dev.jsonl [--clients 8] [--minutes 30 | --requests 2000] \
        [--max-queue 16] [--json result.json] [--strict]

Starts its own server on 127.0.0.1 (port 0), asks each of six prompts alone first (its "solo
answer"), then runs the clients: each request is a chat completion of 32 tokens (block 8, 32
steps) on one of the prompts, 40 % plain, 40 % streamed, 20 % streamed and cut by the client after
1-4 lines. Every finished answer must equal its prompt's solo answer (the server is
deterministic). Reports requests by outcome, mismatched answers, error events inside a 200
stream, 5xx by code, the server's RSS every 10 s (first / last / max) and its queue depth at the
end. A benchmark, not a timed test; with --strict (the suite's stress test) it exits 1 when a
finished answer differs, an error event follows a 200, any request is refused (503) although
at most --clients requests are live, or the queue is not empty at the end.
"""
import argparse
import http.client
import json
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time

PROMPTS = 6
EXTRA = {"max_tokens": 32, "steps": 32, "block_length": 8}


def parse_arguments():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--llada", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--tasks", required=True)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--minutes", type=float)
    parser.add_argument("--requests", type=int)
    parser.add_argument("--max-queue", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json")
    parser.add_argument("--strict", action="store_true")
    arguments = parser.parse_args()
    if (arguments.minutes is None) == (arguments.requests is None):
        parser.error("give one of --minutes and --requests")
    return arguments


class Server:
    def __init__(self, llada, model, max_queue):
        self.process = subprocess.Popen([llada, "serve", "--model", model, "--port", "0", "--max-queue", str(max_queue)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        line = self.process.stderr.readline()
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+) \(model (.+)\)", line)
        if not match:
            self.process.kill()
            sys.exit(f"no listening line from the server: {line!r}")
        self.port, self.model = int(match.group(1)), match.group(2)
        self.statuses = {}
        # Drain the per-request log lines (a full pipe would block the server).
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stderr:
            match = re.match(r"llada serve: #\d+ \S+ \S+ (\d+) ", line)
            if match:
                self.statuses[match.group(1)] = self.statuses.get(match.group(1), 0) + 1

    def rss_bytes(self):
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return 0

    def metrics(self):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request("GET", "/metrics")
        text = connection.getresponse().read().decode()
        connection.close()
        return {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")}

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


MODEL = "llada"


def host():
    """The CPU, as /proc/cpuinfo names it (family, model, name, the SIMD flags that matter here)."""
    found = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key in ("model name", "cpu family", "model") and key not in found:
                    found[key] = value
                if key == "flags":
                    found["flags"] = [f for f in value.split() if f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni")]
                    break
    except OSError:
        pass
    return {"model_name": found.get("model name"), "family": found.get("cpu family"), "model": found.get("model"),
            "flags": found.get("flags", [])}


def body(prompt, stream):
    return json.dumps({"model": MODEL, "messages": [{"role": "user", "content": prompt}], "stream": stream, **EXTRA})


def plain(port, prompt):
    """(outcome, answer or None, status)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/v1/chat/completions", body=body(prompt, False), headers={"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    if response.status != 200:
        return "refused" if response.status == 503 else "error", None, response.status
    return "finished", json.loads(data)["choices"][0]["message"]["content"], 200


def streamed(port, prompt, cut_after):
    """(outcome, answer or None, status); cut_after: close the connection after this many lines."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("POST", "/v1/chat/completions", body=body(prompt, True), headers={"Content-Type": "application/json"})
    sock = connection.sock   # the response takes it over ("Connection: close")
    response = connection.getresponse()
    if response.status != 200:
        response.read()
        connection.close()
        return "refused" if response.status == 503 else "error", None, response.status
    answer, lines = "", 0
    while True:
        line = response.fp.readline()
        if not line:
            connection.close()
            return "ended early", None, 200
        lines += 1
        if cut_after is not None and lines >= cut_after:
            sock.shutdown(socket.SHUT_RDWR)   # the close the server sees, whoever still holds the socket
            response.close()
            return "cut", None, 200
        line = line.decode().rstrip("\r\n")
        if not line.startswith("data: "):
            continue
        if line == "data: [DONE]":
            connection.close()
            return "finished", answer, 200
        event = json.loads(line[6:])
        if "error" in event:
            connection.close()
            return "error event after 200", event["error"].get("code"), 200
        delta = event["choices"][0].get("delta", {})
        answer += delta.get("content") or ""


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.outcomes, self.statuses, self.error_events = {}, {}, {}
        self.mismatches, self.done = [], 0

    def add(self, kind, outcome, answer, status, solo):
        with self.lock:
            key = f"{kind} {outcome}"
            self.outcomes[key] = self.outcomes.get(key, 0) + 1
            self.statuses[str(status)] = self.statuses.get(str(status), 0) + 1
            if outcome == "error event after 200":
                self.error_events[str(answer)] = self.error_events.get(str(answer), 0) + 1
            if outcome == "finished" and answer != solo and len(self.mismatches) < 20:
                self.mismatches.append({"kind": kind, "answer": answer, "solo": solo})
            if outcome == "finished" and answer != solo:
                self.outcomes["mismatched"] = self.outcomes.get("mismatched", 0) + 1
            self.done += 1


def main():
    arguments = parse_arguments()
    with open(arguments.tasks) as tasks:
        prompts = [json.loads(line)["prompt"] for line in tasks if line.strip()][:PROMPTS]
    server = Server(arguments.llada, arguments.model, arguments.max_queue)
    global MODEL
    MODEL = server.model
    solo = [plain(server.port, prompt)[1] for prompt in prompts]
    if any(answer is None for answer in solo):
        sys.exit(f"a solo request failed: {solo}")

    tally = Tally()
    start = time.monotonic()
    deadline = start + arguments.minutes * 60 if arguments.minutes is not None else None
    budget = {"left": arguments.requests if arguments.requests is not None else -1}
    budget_lock = threading.Lock()

    def take():
        if deadline is not None:
            return time.monotonic() < deadline
        with budget_lock:
            if budget["left"] <= 0:
                return False
            budget["left"] -= 1
            return True

    def client(index):
        chooser = random.Random(arguments.seed * 1000 + index)
        while take():
            p = chooser.randrange(len(prompts))
            roll = chooser.random()
            try:
                if roll < 0.4:
                    kind, (outcome, answer, status) = "plain", plain(server.port, prompts[p])
                elif roll < 0.8:
                    kind, (outcome, answer, status) = "streamed", streamed(server.port, prompts[p], None)
                else:
                    kind, (outcome, answer, status) = "cut", streamed(server.port, prompts[p], chooser.randint(1, 4))
            except Exception as error:   # counted, never fatal to the client
                kind, outcome, answer, status = "transport", type(error).__name__, None, 0
            tally.add(kind, outcome, answer, status, solo[p])

    rss = [(0.0, 0, server.rss_bytes())]
    sampling = threading.Event()

    def sample():
        while not sampling.wait(10):
            rss.append((round(time.monotonic() - start, 1), tally.done, server.rss_bytes()))
            if deadline is not None:
                print(f"  {rss[-1][0]:7.0f} s  {tally.done:8d} requests  RSS {rss[-1][2] / 1e6:.1f} MB", file=sys.stderr)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(arguments.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start
    sampling.set()
    sampler.join()
    rss.append((round(seconds, 1), tally.done, server.rss_bytes()))

    # Cut requests stop within a step: give the server a moment, then its queue must be empty.
    time.sleep(1)
    metrics = server.metrics()
    exit_status = server.stop()
    fivexx = {code: count for code, count in server.statuses.items() if code.startswith("5")}
    result = {
        "host": host(), "clients": arguments.clients, "max_queue": arguments.max_queue, "seconds": round(seconds, 1),
        "requests": tally.done, "requests_per_second": round(tally.done / seconds, 1),
        "outcomes": dict(sorted(tally.outcomes.items())), "client_statuses": dict(sorted(tally.statuses.items())),
        "server_statuses": dict(sorted(server.statuses.items())), "server_5xx": fivexx,
        "error_events_after_200": tally.error_events, "mismatches": tally.mismatches,
        "queue_depth_at_end": metrics.get("llada_queue_depth"), "running_at_end": metrics.get("llada_generations_running"),
        "server_exit_status": exit_status,
        "rss_mb": {"first": round(rss[0][2] / 1e6, 1), "last": round(rss[-1][2] / 1e6, 1),
                   "max": round(max(r[2] for r in rss) / 1e6, 1)},
        "rss_curve": [{"seconds": t, "requests": n, "rss_mb": round(b / 1e6, 1)} for t, n, b in rss],
    }
    if arguments.json:
        with open(arguments.json, "w") as out:
            json.dump(result, out, indent=1)
    summary = {k: v for k, v in result.items() if k != "rss_curve"}
    print(json.dumps(summary))

    if arguments.strict:
        problems = []
        if tally.outcomes.get("mismatched"):
            problems.append(f"{tally.outcomes['mismatched']} finished answers differ from their solo answers: {tally.mismatches[:3]}")
        if tally.error_events:
            problems.append(f"error events after a 200: {tally.error_events}")
        refused = sum(count for key, count in tally.outcomes.items() if key.endswith(" refused"))
        if refused and arguments.clients <= arguments.max_queue:
            problems.append(f"{refused} requests refused (503) with at most {arguments.clients} live requests and --max-queue {arguments.max_queue}")
        others = {k: v for k, v in tally.outcomes.items() if k.split(" ", 1)[-1] not in ("finished", "cut", "refused") and k != "mismatched"}
        if others:
            problems.append(f"unexpected outcomes: {others}")
        if metrics.get("llada_queue_depth") != 0 or metrics.get("llada_generations_running") != 0:
            problems.append(f"queue not empty at the end: depth {metrics.get('llada_queue_depth')}, running {metrics.get('llada_generations_running')}")
        if exit_status != 0:
            problems.append(f"SIGTERM: server exit status {exit_status}")
        for problem in problems:
            print("FAILED: " + problem, file=sys.stderr)
        sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
