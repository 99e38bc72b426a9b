"use strict";
// The page of `llada serve`: chat and infill over the server's own API (docs/web.md), with the
// diffusion drawn from its `llada.start` / `llada.step` events. No framework, nothing fetched
// but this server's endpoints.

const $ = (id) => document.getElementById(id);
const settingsForm = $("settings");
const NUMBER_FIELDS = ["max_tokens", "steps", "steps_per_block", "block_length", "threshold", "temperature", "position_temperature", "cfg_scale", "seed"];
const CHOICE_FIELDS = ["cache", "remasking", "schedule"];
// Infill takes its lengths from the text (InfillRequest): these are left to the server there.
const CANVAS_FIELDS = ["max_tokens", "steps", "steps_per_block", "block_length"];
const STORAGE_KEY = "llada-settings";

// `session` changes with New chat: a generation still finishing then leaves the new chat alone.
const state = { mode: "chat", messages: [], defaults: null, controller: null, reconnecting: false, session: 0 };

// MARK: server

class ServerError extends Error {}

function requestHeaders() {
  const headers = { "Content-Type": "application/json" };
  const key = settingsForm.elements.api_key.value.trim();
  if (key) headers.Authorization = "Bearer " + key;
  return headers;
}

/** The server's error object as one line: its message, and the field it names. */
function errorText(status, body) {
  const error = body && body.error;
  if (!error) return `the server answered ${status} without an error message`;
  return error.message + (error.param ? ` (field: ${error.param})` : "");
}

function setStatus(text, down = false) {
  const status = $("server-status");
  status.textContent = text;
  status.classList.toggle("down", down);
}

/** The model and its defaults; while the server is unreachable, retried every two seconds. */
async function connect() {
  try {
    const response = await fetch("/v1/models", { headers: requestHeaders(), cache: "no-store" });
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      setStatus(errorText(response.status, body), true);
      return;
    }
    const model = body.data[0];
    $("model-name").textContent = model.id;
    const first = state.defaults === null;
    state.defaults = model.llada_defaults || {};
    if (first) fillChoices(model.llada_choices || {});
    if (first) applySettings({ ...state.defaults, ...savedSettings() });
    setStatus(state.reconnecting ? "reconnected" : "ready");
    state.reconnecting = false;
  } catch {
    serverUnreachable();
  }
}

function serverUnreachable() {
  setStatus("cannot reach the server; retrying…", true);
  if (state.reconnecting) return;
  state.reconnecting = true;
  const retry = async () => {
    await connect();
    if (state.reconnecting) setTimeout(retry, 2000);
  };
  setTimeout(retry, 2000);
}

/** Server-Sent Events of a fetch response: `onEvent(name, data)` per event, until [DONE]. */
async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    // Any of the three line ends SSE allows (a lone \r at the end may be half of a \r\n).
    buffer = (buffer + decoder.decode(value, { stream: true })).replace(/\r\n|\r(?=.)/gs, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) name = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
      }
      if (!data.length) continue; // a `: step` comment
      const text = data.join("\n");
      if (text === "[DONE]") return true;
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new ServerError(`the server sent an event that is not JSON: ${text.slice(0, 120)}`);
      }
      if (parsed.error) throw new ServerError(errorText(500, parsed));
      onEvent(name, parsed);
    }
  }
}

// MARK: settings

function fillChoices(choices) {
  for (const name of CHOICE_FIELDS) {
    const select = settingsForm.elements[name];
    select.replaceChildren(...(choices[name] || []).map((value) => new Option(value, value)));
  }
}

function applySettings(values) {
  for (const name of [...NUMBER_FIELDS, ...CHOICE_FIELDS]) {
    const value = values[name];
    settingsForm.elements[name].value = value === null || value === undefined ? "" : String(value);
  }
}

function savedSettings() {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY)) || {};
  } catch {
    return {};
  }
}

function saveSettings() {
  const values = {};
  for (const name of [...NUMBER_FIELDS, ...CHOICE_FIELDS]) values[name] = settingsForm.elements[name].value;
  try { localStorage.setItem(STORAGE_KEY, JSON.stringify(values)); } catch { /* private mode: not kept */ }
}

/** The request's settings: every filled field, as typed; the server checks them and names the bad one. */
function settingsBody() {
  const body = {};
  for (const name of NUMBER_FIELDS) {
    if (state.mode === "infill" && CANVAS_FIELDS.includes(name)) continue;
    const input = settingsForm.elements[name];
    if (input.validity.badInput) throw new ServerError(`${name} is not a number`);
    if (input.value.trim() !== "") body[name] = Number(input.value);
    else if (name === "threshold") body.threshold = null; // off
  }
  for (const name of CHOICE_FIELDS) if (settingsForm.elements[name].value) body[name] = settingsForm.elements[name].value;
  return body;
}

// MARK: the canvas

/** One token's text for a cell: specials by name, whitespace made visible. */
function cellText(piece) {
  const special = /^<\|(.+)\|>$/.exec(piece);
  if (special) return { text: { endoftext: "EOS", eot_id: "EOT", startoftext: "BOS" }[special[1]] || special[1], special: true };
  return { text: piece.replace(/\n/g, "↵").replace(/\t/g, "⇥") || "∅", special: false };
}

/** The canvas of one generation: blocks of cells, filled as the step events are shown. */
class DiffusionView {
  constructor(canvas, live, summary, label) {
    this.canvas = canvas;
    this.live = live;
    this.summary = summary;
    this.label = label;
    this.cells = [];
    this.pieces = [];
    this.fresh = [];
    this.stats = { steps: 0, calls: 0, block: 0, committed: 0, seconds: 0, masksLeft: 0 };
    this.settings = null;
  }

  start(event) {
    this.settings = event;
    this.pieces = event.canvas.slice();
    this.stats.masksLeft = event.canvas.filter((p) => p === null).length;
    // The blocks as the server cut them (a block-causal model's first one may hold the prompt's tail).
    this.ranges = event.blocks;
    const blocks = this.ranges.map((range, b) => {
      const block = document.createElement("div");
      block.className = "block";
      block.dataset.label = `block ${b + 1}`;
      return block;
    });
    this.cells = event.canvas.map((piece, position) => {
      const cell = document.createElement("span");
      cell.className = "cell";
      cell.setAttribute("aria-hidden", "true");
      if (piece === null) {
        cell.classList.add("masked");
        cell.textContent = "·";
      } else {
        this.paint(cell, piece, "given");
      }
      blocks[this.ranges.findIndex(([start, end]) => position >= start && position < end)].append(cell);
      return cell;
    });
    this.canvas.replaceChildren(...blocks);
    this.markBlock(0);
    this.update();
  }

  paint(cell, piece, kind) {
    const { text, special } = cellText(piece);
    cell.className = `cell ${kind}` + (special ? " special" : "");
    cell.textContent = text;
    cell.title = JSON.stringify(piece);
  }

  markBlock(block) {
    [...this.canvas.children].forEach((element, index) => element.classList.toggle("current", index === block));
  }

  step(event) {
    for (const cell of this.fresh) cell.classList.remove("new");
    this.fresh = [];
    event.committed.forEach((position, index) => {
      const cell = this.cells[position];
      if (!cell) return;
      this.pieces[position] = event.pieces[index];
      this.paint(cell, event.pieces[index], "token new");
      this.fresh.push(cell);
    });
    for (const position of event.remasked) {
      const cell = this.cells[position];
      if (!cell) continue;
      this.pieces[position] = null;
      cell.className = "cell masked";
      cell.textContent = "·";
    }
    const stats = this.stats;
    stats.steps += 1;
    stats.calls = event.call;
    stats.committed += event.committed.length;
    stats.seconds += event.seconds;
    stats.masksLeft = event.masks_left;
    if (event.block !== stats.block) this.summary.textContent = `Block ${stats.block + 1} is final.`;
    stats.block = event.block;
    this.markBlock(event.block);
    this.update();
  }

  /** The answer is complete, stopped or failed: what was never generated shows as unused. */
  finish(outcome) {
    if (!this.settings) {
      // Refused or unreachable before the first event: nothing of this generation to show.
      this.canvas.replaceChildren();
      this.canvas.setAttribute("aria-label", `${this.label}: ${outcome}, nothing generated`);
      this.live.textContent = outcome;
      return;
    }
    for (const cell of this.fresh) cell.classList.remove("new");
    this.fresh = [];
    if (outcome === "done") for (const cell of this.cells) if (cell.classList.contains("masked")) cell.className = "cell unused";
    this.markBlock(-1);
    this.update(outcome);
    const { committed, calls, seconds } = this.stats;
    this.summary.textContent = outcome === "done"
      ? `Answer complete: ${committed} tokens in ${calls} model calls, ${seconds.toFixed(2)} s.`
      : `Generation ${outcome} after ${calls} model calls.`;
  }

  update(outcome) {
    const s = this.stats, settings = this.settings;
    if (!settings) return;
    const blocks = this.ranges.length;
    const speed = s.seconds > 0 ? (s.committed / s.seconds).toFixed(1) : "–";
    const head = outcome ? outcome : settings.steps ? `step ${s.steps}/${settings.steps}` : `step ${s.steps}`;
    const left = outcome === "done" && s.masksLeft > 0 ? `${s.masksLeft} positions not needed: the answer ended`
      : `${s.masksLeft} masks left`;
    this.live.textContent = `${head} · block ${Math.min(s.block + 1, blocks)}/${blocks} · ${s.calls} model calls · ` +
      `${speed} tokens/s · ${left}`;
    const text = this.pieces.map((p) => (p === null ? "_" : p)).join("");
    const decided = this.pieces.filter((p) => p !== null).length;
    this.canvas.setAttribute("aria-label", `${this.label}: ${decided} of ${this.pieces.length} positions decided, ` +
      `block ${Math.min(s.block + 1, blocks)} of ${blocks}; masks shown as _: ${text.slice(0, 400)}`);
  }
}

/**
 * Shows the events at most a few per frame, so a fast model's diffusion is still visible;
 * the display never lags more than about half a second behind the server.
 */
class Replay {
  constructor() {
    this.queue = [];
    this.waiters = [];
    this.scheduled = false;
  }

  push(action) {
    this.queue.push(action);
    if (!this.scheduled) this.schedule();
  }

  schedule() {
    this.scheduled = true;
    // A hidden tab runs no animation frames: the timer then shows everything at once.
    let ran = false;
    const run = (all) => { if (!ran) { ran = true; this.frame(all); } };
    requestAnimationFrame(() => run(false));
    setTimeout(() => run(true), document.hidden ? 0 : 250);
  }

  frame(all) {
    const count = all ? this.queue.length : Math.max(1, Math.ceil(this.queue.length / 30));
    for (const action of this.queue.splice(0, count)) action();
    if (this.queue.length) {
      this.schedule();
    } else {
      this.scheduled = false;
      for (const resolve of this.waiters.splice(0)) resolve();
    }
  }

  /** Everything pushed so far has been shown. */
  drained() {
    return this.queue.length || this.scheduled ? new Promise((resolve) => this.waiters.push(resolve)) : Promise.resolve();
  }

  flush() {
    for (const action of this.queue.splice(0)) action();
  }
}

// MARK: conversation

function bubble(role, text, label) {
  const item = document.createElement("li");
  item.className = role;
  const name = document.createElement("span");
  name.className = "role";
  name.textContent = label;
  const content = document.createElement("span");
  content.className = "content";
  content.textContent = text;
  item.append(name, content);
  $("history").append(item);
  item.scrollIntoView({ block: "nearest" });
  return content;
}

function showError(text) {
  const error = $("error");
  error.textContent = text;
  error.hidden = false;
}

function setRunning(running) {
  $("send").disabled = running;
  $("stop").disabled = !running;
  $("diffusion").dataset.state = running ? "running" : $("diffusion").dataset.state;
}

async function send() {
  if (state.controller) return;
  $("error").hidden = true;
  const chat = state.mode === "chat";
  const input = chat ? $("message") : $("infill-text");
  const text = input.value;
  if (!text.trim()) return;
  let body;
  try {
    body = { ...settingsBody(), stream: true, llada_events: true };
  } catch (error) {
    showError(error.message);
    return;
  }
  saveSettings();
  let path, messages;
  if (chat) {
    messages = [...state.messages, { role: "user", content: text }];
    Object.assign(body, { messages, stream_options: { include_usage: true } });
    path = "/v1/chat/completions";
    bubble("user", text, "you");
  } else {
    body.text = text;
    const prompt = $("infill-prompt").value;
    if (prompt.trim()) body.prompt = prompt;
    path = "/v1/infill";
    bubble("user", text, prompt.trim() ? `infill, answering “${prompt}”` : "infill");
  }
  input.value = "";
  const answer = bubble("assistant", "", chat ? "LLaDA" : "filled");
  const item = answer.parentElement;
  const view = new DiffusionView($("canvas"), $("live"), $("canvas-summary"), chat ? "Answer canvas" : "Infill canvas");
  const replay = new Replay();
  const controller = new AbortController();
  const session = state.session;
  state.controller = controller;
  setRunning(true);
  let answerText = "", outcome = "failed";
  try {
    const response = await fetch(path, { method: "POST", headers: requestHeaders(), body: JSON.stringify(body), signal: controller.signal });
    if (!response.ok) throw new ServerError(errorText(response.status, await response.json().catch(() => null)));
    if (state.reconnecting || $("server-status").classList.contains("down")) connect();
    const complete = await readEvents(response, (name, data) => {
      if (name === "llada.start") replay.push(() => view.start(data));
      else if (name === "llada.step") replay.push(() => view.step(data));
      else if (data.object === "llada.infill") replay.push(() => { answerText = data.text; answer.textContent = data.text; });
      else for (const choice of data.choices || []) {
        const delta = choice.delta && choice.delta.content;
        if (delta) replay.push(() => { answerText += delta; answer.textContent = answerText; });
      }
    });
    if (!complete) throw new ServerError("the server closed the stream before the answer was complete");
    await replay.drained();
    if (session !== state.session) return;
    outcome = "done";
    item.classList.toggle("empty", answerText === "");
    if (chat) state.messages = [...messages, { role: "assistant", content: answerText }];
  } catch (error) {
    if (session !== state.session) return;
    replay.flush();
    if (error.name === "AbortError") {
      outcome = "stopped";
    } else if (error instanceof ServerError) {
      showError(error.message);
    } else {
      showError(`cannot reach the server at ${location.origin} (${error.message}); it may be restarting: send again when it is back`);
      serverUnreachable();
    }
    if (outcome !== "done") {
      // Not part of the history: the text goes back to the input to send again.
      item.classList.add("stopped");
      answer.textContent = answerText || (outcome === "stopped" ? "(stopped)" : "(no answer)");
      if (!input.value) input.value = text;
    }
  } finally {
    state.controller = null;
    setRunning(false);
    if (session === state.session) {
      view.finish(outcome);
      $("diffusion").dataset.state = outcome;
      // The clicked button may now be disabled: typing goes on where it was.
      if (document.activeElement === document.body || document.activeElement.disabled) input.focus();
    }
  }
}

function stop() {
  if (state.controller) state.controller.abort();
}

// MARK: wiring

function setMode(mode) {
  state.mode = mode;
  $("tab-chat").setAttribute("aria-selected", String(mode === "chat"));
  $("tab-infill").setAttribute("aria-selected", String(mode === "infill"));
  $("chat-input").hidden = mode !== "chat";
  $("infill-input").hidden = mode !== "infill";
  for (const name of CANVAS_FIELDS) settingsForm.elements[name].disabled = mode === "infill";
  (mode === "chat" ? $("message") : $("infill-text")).focus();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  send();
});
for (const id of ["message", "infill-text"]) {
  $(id).addEventListener("keydown", (event) => {
    // Enter sends, Shift+Enter is a new line (and an IME's Enter ends its composition).
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
}
document.addEventListener("keydown", (event) => { if (event.key === "Escape") stop(); });
$("stop").addEventListener("click", stop);
$("new-chat").addEventListener("click", () => {
  stop();
  state.session += 1;
  state.messages = [];
  $("history").replaceChildren();
  $("canvas").replaceChildren();
  $("live").textContent = "idle";
  $("canvas").setAttribute("aria-label", "Answer canvas: nothing generated yet");
  $("diffusion").dataset.state = "idle";
  $("error").hidden = true;
});
$("tab-chat").addEventListener("click", () => setMode("chat"));
$("tab-infill").addEventListener("click", () => setMode("infill"));
$("reset-settings").addEventListener("click", () => {
  if (state.defaults) applySettings(state.defaults);
  saveSettings();
});
settingsForm.elements.api_key.addEventListener("change", connect);
settingsForm.addEventListener("submit", (event) => event.preventDefault());

connect();
$("message").focus();
