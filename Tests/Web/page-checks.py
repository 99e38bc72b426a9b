#!/usr/bin/env python3
"""The web page of `llada serve` in a real browser: headless Chromium (Debian's chromium and
chromium-driver) driven by Selenium, against a server on the fixture that this script starts on
127.0.0.1.

    page-checks.py LLADA MODEL TASKS [--screenshots DIR] [--llada2]

Checks: fixture tasks sent with Enter show the answer `llada generate` prints (and a second turn
the server's answer to the whole conversation); Shift+Enter is a new line; the canvas goes through
states with masks and has a text alternative; infill shows what `llada infill` prints; Stop
mid-generation frees the server (the generation ends within steps, the next answer comes); a bad
setting shows the server's message; the page keeps working after the server restarts; light and
dark follow the system. With --screenshots, writes web-mid.png, web-done.png and web-dark.png there.
With --llada2 (MODEL a LLaDA 2 directory): its settings (steps per block), the canvas in the
server's whole blocks, infill refused as block-causal, `steps` refused naming steps_per_block.
Prints one JSON line of measurements; exits 1 with "FAILED: ..." on the first failed check.
"""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

args = sys.argv[1:]
SCREENSHOTS = None
if "--screenshots" in args:
    at = args.index("--screenshots")
    SCREENSHOTS = args[at + 1]
    del args[at:at + 2]
LLADA2 = "--llada2" in args
if LLADA2:
    args.remove("--llada2")
LLADA, MODEL, TASKS = args
# The page's settings and `llada generate`'s flags for the same generation (and as API fields).
if LLADA2:
    PAGE_SETTINGS = {"max_tokens": "32", "steps": "", "steps_per_block": "8", "block_length": "8"}
    CLI_SETTINGS = ["--gen-length", "32", "--steps-per-block", "8", "--block-length", "8"]
    API_SETTINGS = {"steps_per_block": 8, "block_length": 8}
else:
    PAGE_SETTINGS = {"max_tokens": "32", "steps": "32", "block_length": "8"}
    CLI_SETTINGS = ["--gen-length", "32", "--steps", "32", "--block-length", "8"]
    API_SETTINGS = {"steps": 32, "block_length": 8}


def check(condition, message):
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """`llada serve` on a fixed port, so a restarted server is where the page looks for it."""

    def __init__(self, port):
        self.port = port
        self.process = subprocess.Popen([LLADA, "serve", "--model", MODEL, "--port", str(port)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        atexit.register(lambda: self.process.poll() is None and self.process.kill())
        line = self.process.stderr.readline()
        check(f"listening on http://127.0.0.1:{port}" in line, f"no listening line: {line!r}")
        self.log = []
        self.reader = threading.Thread(target=lambda: [self.log.append(l.rstrip("\n")) for l in self.process.stderr], daemon=True)
        self.reader.start()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def metrics(self):
        with urllib.request.urlopen(self.url + "/metrics", timeout=30) as response:
            text = response.read().decode()
        return {line.split()[0]: float(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")}

    def post(self, path, body):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        check(self.process.wait(timeout=60) == 0, "the server did not exit 0 on SIGTERM")
        self.reader.join(timeout=10)


def cli(*arguments):
    """What a `llada` command prints, its final newline removed."""
    return subprocess.run([LLADA, *arguments, "--model", MODEL], capture_output=True, text=True, check=True).stdout[:-1]


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"]:
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)
    atexit.register(driver.quit)
    return driver


def wait_for(condition, what, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    check(False, f"timed out waiting for {what}")


# Records the canvas after every DOM change: [masked cells, cells] per mutation batch.
RECORD_CANVAS = """
window.canvasStates = [];
const canvas = document.getElementById('canvas');
new MutationObserver(() => window.canvasStates.push(
  [canvas.querySelectorAll('.cell.masked').length, canvas.querySelectorAll('.cell').length]
)).observe(canvas, {subtree: true, childList: true, attributes: true, characterData: true});
"""


class Page:
    def __init__(self, driver, url):
        self.driver = driver
        driver.get(url)
        wait_for(lambda: self.text("server-status") == "ready", "the page to connect")
        driver.execute_script(RECORD_CANVAS)

    def element(self, id):
        return self.driver.find_element(By.ID, id)

    def text(self, id):
        return self.element(id).text

    def state(self):
        return self.element("diffusion").get_attribute("data-state")

    def set(self, name, value):
        field = self.driver.find_element(By.CSS_SELECTOR, f"#settings [name='{name}']")
        if field.tag_name == "select":
            self.driver.execute_script("arguments[0].value = arguments[1]", field, value)
        else:
            field.clear()
            if value:
                field.send_keys(value)

    def settings(self, values):
        for name, value in values.items():
            self.set(name, value)

    def send(self, text, box="message"):
        """Types text and presses Enter; returns once the page has started the request."""
        self.driver.execute_script("window.canvasStates.length = 0")
        before = len(self.driver.find_elements(By.CSS_SELECTOR, "#history li"))
        field = self.element(box)
        field.clear()
        field.send_keys(text, Keys.ENTER)
        wait_for(lambda: len(self.driver.find_elements(By.CSS_SELECTOR, "#history li")) >= before + 2, "the turn to appear")

    def finished(self, timeout=60):
        wait_for(lambda: self.state() in ("done", "failed", "stopped"), "the generation to end", timeout)
        return self.state()

    def answer(self):
        return self.driver.find_elements(By.CSS_SELECTOR, "#history li.assistant .content")[-1].text

    def error(self):
        error = self.element("error")
        return error.text if error.is_displayed() else ""

    def canvas_states(self):
        return self.driver.execute_script("return window.canvasStates")

    def screenshot(self, name):
        if SCREENSHOTS:
            os.makedirs(SCREENSHOTS, exist_ok=True)
            self.driver.save_screenshot(os.path.join(SCREENSHOTS, name))


def went_through_masks(states):
    """Distinct canvas states with some positions committed and some still masked."""
    return sorted({masked for masked, cells in states if 0 < masked < cells})


def main():
    tasks = [json.loads(line) for line in open(TASKS)][:3]
    measured = {}
    server = Server(free_port())
    driver = browser()
    page = Page(driver, server.url)
    check(page.text("model-name") == os.path.splitext(os.path.basename(MODEL.rstrip("/")))[0], f"model name {page.text('model-name')!r}")
    page.settings(PAGE_SETTINGS)

    # Shift+Enter is a new line, not a send.
    message = page.element("message")
    message.send_keys("first line", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "second line")
    check(message.get_attribute("value") == "first line\nsecond line", f"Shift+Enter: {message.get_attribute('value')!r}")
    check(not driver.find_elements(By.CSS_SELECTOR, "#history li"), "Shift+Enter sent the message")

    # Fixture tasks: the answer shown is `llada generate`'s, the canvas went through masked states.
    for task in tasks:
        page.element("new-chat").click()
        expected = cli("generate", "--prompt", task["prompt"], *CLI_SETTINGS)
        page.send(task["prompt"])
        check(page.finished() == "done", f"{task['id']}: state {page.state()}, error {page.error()!r}")
        check(page.answer() == expected, f"{task['id']}: the page shows {page.answer()!r}, llada generate prints {expected!r}")
        intermediate = went_through_masks(page.canvas_states())
        # Dense LLaDA commits a token per step here; LLaDA 2's threshold commits several at once.
        check(len(intermediate) >= (1 if LLADA2 else 3), f"{task['id']}: the canvas showed {intermediate} masked counts between none and all")
        label = page.element("canvas").get_attribute("aria-label")
        check("positions decided" in label and page.element("canvas").get_attribute("role") == "img", f"canvas text alternative {label!r}")
        measured.setdefault("intermediate_states", []).append(len(intermediate))
        if task is tasks[2]:
            time.sleep(0.5)  # the newest tokens' highlight fades
            page.screenshot("web-done.png")
    check(re.match(r"done · block \d+/\d+ · \d+ model calls · [\d.]+ tokens/s", page.text("live")), f"live line {page.text('live')!r}")

    # A second turn: the history goes with it, as chat.py keeps it.
    first = page.answer()
    second_prompt = tasks[0]["prompt"]
    page.send(second_prompt)
    check(page.finished() == "done", f"second turn: {page.state()} {page.error()!r}")
    conversation = [{"role": "user", "content": tasks[-1]["prompt"]}, {"role": "assistant", "content": first},
                    {"role": "user", "content": second_prompt}]
    direct = server.post("/v1/chat/completions", {"messages": conversation, "max_tokens": 32, **API_SETTINGS})
    check(page.answer() == direct["choices"][0]["message"]["content"],
          f"second turn {page.answer()!r} != the server's answer to the conversation {direct['choices'][0]['message']['content']!r}")

    # Infill: the text with its holes filled live, as `llada infill` fills it.
    page.element("tab-infill").click()
    page.element("infill-prompt").send_keys(tasks[2]["prompt"])
    if LLADA2:
        # The answer's end follows the holes in a later block: a block-causal model cannot fill them so.
        page.send("2 [MASK*5] 9", box="infill-text")
        check(page.finished() == "failed" and "block-causal" in page.error(), f"LLaDA 2 infill: {page.state()} {page.error()!r}")
    else:
        expected = cli("infill", "--prompt", tasks[2]["prompt"], "--text", "2 [MASK*5] 9")
        page.send("2 [MASK*5] 9", box="infill-text")
        check(page.finished() == "done", f"infill: {page.state()} {page.error()!r}")
        check(page.answer() == expected, f"infill shows {page.answer()!r}, llada infill prints {expected!r}")
        check(len(went_through_masks(page.canvas_states())) >= 2, f"infill canvas states {page.canvas_states()[:8]}")
    page.element("tab-chat").click()

    # A bad setting: the server's message, naming the field, in the page.
    page.set("steps", "7")
    page.send(tasks[0]["prompt"])
    check(page.finished() == "failed", f"bad setting: state {page.state()}")
    wanted = "steps_per_block" if LLADA2 else "multiple"
    check("steps" in page.error() and wanted in page.error(), f"bad setting error {page.error()!r}")
    check(page.element("message").get_attribute("value") == tasks[0]["prompt"], "the refused message was not given back")
    page.set("steps", PAGE_SETTINGS["steps"])

    # Stop mid-generation: a long single-block guided generation, stopped once it has run steps.
    if LLADA2:
        # One token per step: a threshold no confidence can exceed.
        page.settings({"max_tokens": "224", "steps_per_block": "224", "block_length": "224", "cache": "none", "threshold": "1"})
    else:
        page.settings({"max_tokens": "224", "steps": "224", "block_length": "224", "cache": "none", "cfg_scale": "1"})
    page.element("new-chat").click()
    calls_before = server.metrics()["llada_model_calls_total"]
    page.send(tasks[0]["prompt"])
    wait_for(lambda: server.metrics()["llada_model_calls_total"] >= calls_before + 8 or page.state() != "running",
             "the long generation to run")
    check(page.state() == "running", f"the long generation ended first: {page.state()} {page.error()!r} {page.text('live')!r}")
    # For the screenshot, a canvas well under way; for the check alone, any masked state (a fast host
    # must not finish the 224 steps before the click).
    committed = 40 if SCREENSHOTS else 1
    wait_for(lambda: any(0 < masked <= cells - committed for masked, cells in page.canvas_states()), "tokens on the canvas")
    page.screenshot("web-mid.png")
    stopped_at = time.time()
    page.element("stop").click()
    check(page.finished() == "stopped", f"after Stop the page is {page.state()}")
    wait_for(lambda: server.metrics()["llada_generations_running"] == 0, "the server to end the stopped generation", timeout=10)
    measured["stop_to_free_seconds"] = round(time.time() - stopped_at, 3)
    ran = server.metrics()["llada_model_calls_total"] - calls_before
    check(ran < 224, f"the stopped generation ran {ran} of 224 model calls")
    wait_for(lambda: any(" 499 " in line for line in server.log), "the 499 log line of the stopped request", timeout=10)
    measured["stopped_after_calls"] = int(ran)
    page.settings({**PAGE_SETTINGS, "cache": "block", "threshold": "0.95"} if LLADA2 else {**PAGE_SETTINGS, "cache": "dual", "cfg_scale": "0"})
    page.element("new-chat").click()
    page.send(tasks[1]["prompt"])
    check(page.finished() == "done", f"after Stop: {page.state()} {page.error()!r}")
    check(page.answer() == cli("generate", "--prompt", tasks[1]["prompt"], *CLI_SETTINGS), "the answer after Stop")

    # The server restarts: the page says it is unreachable, then goes on against the new one.
    port = server.port
    server.stop()
    page.send(tasks[0]["prompt"])
    check(page.finished() == "failed" and "cannot reach the server" in page.error(), f"server down: {page.error()!r}")
    wait_for(lambda: "cannot reach" in page.text("server-status"), "the status to show the server down", timeout=10)
    server = Server(port)
    wait_for(lambda: page.text("server-status") == "reconnected", "the page to reconnect", timeout=30)
    page.element("new-chat").click()
    page.send(tasks[0]["prompt"])
    check(page.finished() == "done", f"after restart: {page.state()} {page.error()!r}")
    check(page.answer() == cli("generate", "--prompt", tasks[0]["prompt"], *CLI_SETTINGS), "the answer after the restart")

    # Light and dark follow the system.
    background = lambda: driver.execute_script("return getComputedStyle(document.body).backgroundColor")
    scheme = lambda value: driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": value}]})
    scheme("light")
    light = background()
    scheme("dark")
    dark = background()
    check(light != dark, f"the same background in light and dark: {light}")
    time.sleep(0.6)  # the cells' colour transitions
    page.screenshot("web-dark.png")
    measured.update(light=light, dark=dark)
    server.stop()
    print(json.dumps(measured, sort_keys=True))


main()
