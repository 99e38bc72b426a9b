#!/usr/bin/env python3
"""Runs the command-line tools on a list of bad inputs and prints, as a Markdown table, the exit
code and the message of each; fails if any case crashes, hangs, exits 0 or does not print exactly
one `error:` line. docs/robustness.md holds its output.

    swift build -c release && python3 Tests/Robustness/bad-inputs.py [BUILD_DIR]

The damaged files are made in .build/bad-inputs from the fixture (paths in messages stay relative).
"""
import json
import os
import platform
import shutil
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
os.chdir(ROOT)
BUILD = sys.argv[1] if len(sys.argv) > 1 else ".build/release"
LLADA, QUANTIZE = os.path.join(BUILD, "llada"), os.path.join(BUILD, "llada-quantize")
FIXTURE = "Tests/Fixtures/llada-tiny-tasks"
FIXTURE2 = "Tests/Fixtures/llada2-tiny-tasks"
WORK = ".build/bad-inputs"
# A kernel level this machine cannot run (x86_64 has no NEON; aarch64 no AVX-512).
MISSING_LEVEL = "avx512" if platform.machine() in ("aarch64", "arm64") else "neon"


def fresh(name, fixture=FIXTURE):
    """A copy of the fixture checkpoint to damage."""
    path = os.path.join(WORK, name)
    shutil.copytree(fixture, path)
    return path


def edit_json(path, edit):
    with open(path) as f:
        value = json.load(f)
    edit(value)
    with open(path, "w") as f:
        json.dump(value, f)


def write(path, data):
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def shard_header(path, edit):
    """Rewrites the JSON header of a safetensors file, keeping its data."""
    with open(path, "rb") as f:
        data = f.read()
    length = struct.unpack("<Q", data[:8])[0]
    header = edit(json.loads(data[8:8 + length]))
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    write(path, struct.pack("<Q", len(text)) + text + data[8 + length:])


def patched(source, name, offset, byte=None, cut=None, append=b""):
    with open(source, "rb") as f:
        data = bytearray(f.read())
    if byte is not None:
        data[offset] ^= byte
    if cut is not None:
        data = data[:cut]
    path = os.path.join(WORK, name)
    write(path, bytes(data) + append)
    return path


def generate(model, *options, prompt="reverse: abcd"):
    return [LLADA, "generate", "--model", model, "--prompt", prompt, *options]


def cases():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    m = FIXTURE
    yield "options", None, None, None
    for options, what in [
        (["--gen-length", "0"], "gen length 0"),
        (["--gen-length", "-8"], "negative gen length"),
        (["--gen-length", "248", "--steps", "248", "--block-length", "248"], "prompt + gen length beyond max_sequence_length (256)"),
        (["--gen-length", "256", "--steps", "256", "--block-length", "256"], "gen length = max_sequence_length"),
        (["--gen-length", "32", "--steps", "64"], "more steps than tokens to transfer"),
        (["--steps", "0"], "steps 0"),
        (["--gen-length", "30", "--block-length", "8"], "block length not dividing gen length"),
        (["--gen-length", "32", "--steps", "6", "--block-length", "8"], "steps not a multiple of the block count"),
        (["--block-length", "0"], "block length 0"),
        (["--threads", "0"], "threads 0"),
        (["--threads", "100000"], "threads 100000"),
        (["--threshold", "0"], "threshold 0"),
        (["--threshold", "1.5"], "threshold 1.5"),
        (["--threshold", "nan"], "threshold nan"),
        (["--temperature", "-1"], "negative temperature"),
        (["--temperature", "inf"], "infinite temperature"),
        (["--cfg-scale", "-1"], "negative guidance"),
        (["--cfg-scale", "1", "--cache", "dual"], "guidance with the dual cache"),
        (["--top-k", "0"], "top-k 0"),
        (["--top-p", "1.5"], "top-p 1.5"),
        (["--position-temperature", "-1"], "negative position temperature"),
        (["--remask-committed", "--remask-threshold", "2"], "remask threshold 2"),
        (["--remask-committed", "--remask-budget", "99"], "remask budget beyond the block"),
        (["--remasking", "sideways"], "unknown remasking"),
        (["--schedule", "zigzag"], "unknown schedule"),
        (["--cache", "bogus"], "unknown cache"),
        (["--kv-type", "f8"], "unknown kv type"),
        (["--kernel-path", "turbo"], "unknown kernel path"),
        (["--kernel-path", MISSING_LEVEL], "kernel path this CPU lacks"),
        (["--seed", "-1"], "negative seed"),
        (["--steps", "many"], "non-numeric steps"),
    ]:
        yield what, generate(m, *options), None, None
    for options, what in [
        (["--port", "70000"], "port out of range"),
        (["--max-queue", "-1"], "negative queue"),
        (["--timeout", "0"], "time limit 0"),
        (["--api-key", ""], "empty API key"),
        (["--max-body-bytes", "10"], "body limit below 1 KiB"),
        (["--steps", "6", "--gen-length", "32", "--block-length", "8"], "serve defaults the sampler refuses"),
    ]:
        yield f"serve: {what}", [LLADA, "serve", "--model", m, *options], None, None
    yield "serve: the model does not fit the memory", ["env", "LLADA_MEMORY_LIMIT_BYTES=1000", LLADA, "serve", "--model", m], None, None
    yield "empty raw prompt", generate(m, "--raw", prompt=""), None, None
    yield "prompt on stdin not UTF-8", generate(m, prompt="-"), b"\xff\xfe\x00bad", None
    yield "no prompt", [LLADA, "generate", "--model", m], None, None
    yield "unknown subcommand", [LLADA, "bogus"], None, None
    yield "detokenize: not an id", [LLADA, "detokenize", "--model", m, "--ids", "1,x"], None, None
    yield "detokenize: id outside the vocabulary", [LLADA, "detokenize", "--model", m, "--ids", "100000"], None, None
    yield "eval: missing task file", [LLADA, "eval", "--model", m, "--tasks", os.path.join(WORK, "none.jsonl")], None, None
    bad_tasks = os.path.join(WORK, "bad.jsonl")
    write(bad_tasks, '{"id": "1", "task": "t", "prompt": "p", "answer": "a"}\n{"id": 2}\n')
    yield "eval: task line without fields", [LLADA, "eval", "--model", m, "--tasks", bad_tasks], None, None

    yield "special tokens", None, None, None
    no_eot = fresh("no-eot")
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        path = os.path.join(no_eot, name)
        with open(path) as f:
            text = f.read().replace("<|eot_id|>", "<|eot_xx|>").replace('"eos_token": "<|endoftext|>",', "")
        write(path, text)
    edit_json(os.path.join(no_eot, "config.json"), lambda c: c.pop("eos_token_id"))
    yield "tokenizer without <|eot_id|>, chat template", generate(no_eot), None, None
    yield "tokenizer without <|eot_id|>, --confidence-eos-eot-inf", generate(no_eot, "--raw", "--confidence-eos-eot-inf"), None, None
    yield "no EOS anywhere, --logits-eos-inf", generate(no_eot, "--raw", "--logits-eos-inf"), None, None
    far_eos = fresh("far-eos")
    edit_json(os.path.join(far_eos, "tokenizer_config.json"), lambda c: c.pop("eos_token"))
    edit_json(os.path.join(far_eos, "config.json"), lambda c: c.update(eos_token_id=9999))
    yield "EOS id outside the model's vocabulary", generate(far_eos), None, None

    yield "checkpoint directories", None, None, None
    yield "missing path", generate(os.path.join(WORK, "nowhere")), None, None
    empty = os.path.join(WORK, "empty")
    os.makedirs(empty)
    yield "directory without config.json", generate(empty), None, None
    text_file = os.path.join(WORK, "notes.txt")
    write(text_file, "not a model")
    yield "a text file as the model", generate(text_file), None, None
    for name, edit, what in [
        ("config-not-json", None, "config.json not JSON"),
        ("config-no-d-model", lambda c: c.pop("d_model"), "config.json without d_model"),
        ("config-string-layers", lambda c: c.update(n_layers="4"), "n_layers a string"),
        ("config-huge-layers", lambda c: c.update(n_layers=1000000), "n_layers 1000000"),
        ("config-limit", lambda c: c.update(d_model=1 << 21), "d_model 2^21"),
        ("config-rope", lambda c: c.update(d_model=4096, n_heads=1, n_kv_heads=1, max_sequence_length=1 << 20), "RoPE tables of 2^32 floats"),
        ("config-gqa", lambda c: c.update(n_kv_heads=1), "grouped-query attention"),
        ("config-mask", lambda c: c.update(mask_token_id=512), "mask id outside the vocabulary"),
        ("config-shape", lambda c: c.update(mlp_hidden_size=512), "config shape differs from the tensors"),
    ]:
        path = fresh(name)
        if edit is None:
            write(os.path.join(path, "config.json"), "{ d_model: 192 ")
        else:
            edit_json(os.path.join(path, "config.json"), edit)
        yield what, generate(path), None, None
    shard = "model-00001-of-00002.safetensors"
    path = fresh("shard-truncated")
    with open(os.path.join(path, shard), "rb") as f:
        data = f.read()
    write(os.path.join(path, shard), data[: len(data) // 2])
    yield "shard cut in half", generate(path), None, None
    path = fresh("shard-header-length")
    write(os.path.join(path, shard), struct.pack("<Q", 1 << 62) + data[8:])
    yield "safetensors header length 2^62", generate(path), None, None
    path = fresh("shard-not-json")
    write(os.path.join(path, shard), struct.pack("<Q", 8) + b"[1,2,3] " + data[8:64])
    yield "safetensors header not a JSON object", generate(path), None, None
    path = fresh("shard-shape")
    shard_header(os.path.join(path, shard), lambda h: {**h, "model.transformer.wte.weight": {**h["model.transformer.wte.weight"], "shape": [1 << 40, 1 << 40]}})
    yield "tensor shape 2^40 × 2^40", generate(path), None, None
    path = fresh("shard-dtype")
    shard_header(os.path.join(path, shard), lambda h: {**h, "model.transformer.wte.weight": {**h["model.transformer.wte.weight"], "dtype": "F8_E4M3"}})
    yield "unknown dtype", generate(path), None, None
    path = fresh("shard-offsets")
    shard_header(os.path.join(path, shard), lambda h: {**h, "model.transformer.wte.weight": {**h["model.transformer.wte.weight"], "data_offsets": [0, 1 << 50]}})
    yield "data_offsets past the end", generate(path), None, None
    path = fresh("index-not-json")
    write(os.path.join(path, "model.safetensors.index.json"), "{")
    yield "index not JSON", generate(path), None, None
    path = fresh("index-escape")
    edit_json(os.path.join(path, "model.safetensors.index.json"),
              lambda i: i["weight_map"].update({k: "../" + v for k, v in i["weight_map"].items()}))
    yield "index naming ../ shards", generate(path), None, None
    path = fresh("index-newline")
    edit_json(os.path.join(path, "model.safetensors.index.json"),
              lambda i: i["weight_map"].update({k: "shard\n2" for k in list(i["weight_map"])[:1]}))
    yield "index naming a shard with a newline", generate(path), None, None
    path = fresh("tokenizer-missing")
    os.remove(os.path.join(path, "tokenizer.json"))
    yield "tokenizer.json missing", generate(path), None, None
    path = fresh("tokenizer-not-json")
    write(os.path.join(path, "tokenizer.json"), '{"model": ')
    yield "tokenizer.json cut short", generate(path), None, None
    path = fresh("tokenizer-wordpiece")
    edit_json(os.path.join(path, "tokenizer.json"), lambda t: t["model"].update(type="WordPiece"))
    yield "tokenizer.json with a WordPiece model", generate(path), None, None
    path = fresh("tokenizer-vocab")
    edit_json(os.path.join(path, "tokenizer.json"), lambda t: t["model"]["vocab"].update({"Ġzz": 5000000}))
    yield "tokenizer.json vocabulary id out of range", generate(path), None, None
    path = fresh("tokenizer-deep")
    write(os.path.join(path, "tokenizer.json"), "[" * 100000)
    yield "tokenizer.json nested 100000 deep", generate(path), None, None

    yield "packed files", None, None, None
    packed = os.path.join(WORK, "tiny-q4.lpk")
    subprocess.run([QUANTIZE, FIXTURE, "-o", packed, "--type", "q4", "--chunk-kib", "4"], check=True, stdout=subprocess.DEVNULL)
    with open(packed, "rb") as f:
        data = f.read()
    data_offset = struct.unpack("<Q", data[24:32])[0]
    tensor_table = struct.unpack("<Q", data[48 + 3 * 24:48 + 3 * 24 + 8])[0]
    chunk_table = struct.unpack("<Q", data[48 + 4 * 24:48 + 4 * 24 + 8])[0]
    for name, options, what in [
        ("magic.lpk", dict(offset=0, byte=0x20), "magic damaged"),
        ("header.lpk", dict(offset=20, byte=1), "preamble byte flipped"),
        ("config.lpk", dict(offset=300, byte=1), "config section byte flipped"),
        ("tensor-record.lpk", dict(offset=tensor_table + 5 * 128 + 90, byte=1), "tensor record byte flipped"),
        ("chunk-record.lpk", dict(offset=chunk_table + 32 + 12, byte=1), "chunk record byte flipped"),
        ("padding.lpk", dict(offset=data_offset - 1, byte=1), "padding before the data set"),
        ("chunk.lpk", dict(offset=data_offset + 5000, byte=1), "chunk data byte flipped"),
        ("truncated-header.lpk", dict(offset=0, cut=100), "cut inside the preamble"),
        ("truncated.lpk", dict(offset=0, cut=len(data) // 2), "cut in half"),
        ("trailing.lpk", dict(offset=0, append=b"\0"), "one byte appended"),
    ]:
        path = patched(packed, name, **options)
        yield f"{what} (generate)", generate(path, "--gen-length", "8", "--steps", "8", "--block-length", "8"), None, None
        yield f"{what} (verify)", [QUANTIZE, "verify", path], None, None

    yield "LLaDA 2 checkpoints and options", None, None, None
    m2 = FIXTURE2
    short = ["--gen-length", "8", "--block-length", "8"]
    for options, what in [
        (["--steps", "32"], "--steps (dense LLaDA's total)"),
        (["--cfg-scale", "1"], "classifier-free guidance"),
        (["--cache", "dual"], "the dual cache"),
        (["--cache", "prefix"], "the approximate prefix cache"),
        (["--remasking", "margin"], "margin remasking"),
        (["--schedule", "cosine"], "a cosine schedule"),
        (["--remask-committed"], "taking committed tokens back"),
        (["--logits-eos-inf"], "logits_eos_inf"),
        (["--steps-per-block", "0"], "0 steps per block"),
    ]:
        yield f"LLaDA 2: {what}", generate(m2, *short, *options), None, None
    yield "dense: --cache block", generate(m, *short, "--cache", "block"), None, None
    yield "dense: --steps and --steps-per-block disagree", generate(m, "--gen-length", "16", "--block-length", "8", "--steps", "16", "--steps-per-block", "4"), None, None
    yield "LLaDA 2 infill: text after a hole in a later block", [LLADA, "infill", "--model", m2, "--text", "ab [MASK*3] cd"], None, None
    for key, value, what in [
        ("num_experts", 32, "router narrower than num_experts"),
        ("n_group", 5, "n_group not dividing num_experts"),
        ("topk_group", 5, "topk_group > n_group"),
        ("num_experts_per_tok", 9, "top-k beyond the groups' experts"),
        ("score_function", "softmax", "a softmax router"),
        ("rope_scaling", {"rope_type": "yarn", "factor": 4.0}, "rope scaling"),
        ("first_k_dense_replace", 9, "first_k_dense_replace > layers"),
        ("vocab_size", "512", "vocab_size a string"),
    ]:
        path = fresh(f"llada2-{key}", FIXTURE2)
        edit_json(os.path.join(path, "config.json"), lambda c, k=key, v=value: c.__setitem__(k, v))
        yield f"LLaDA 2 config: {what}", generate(path, *short), None, None
    path = fresh("llada2-missing-expert", FIXTURE2)
    shard_header(os.path.join(path, "model.safetensors"),
                 lambda h: {k: v for k, v in h.items() if k != "model.layers.2.mlp.experts.3.up_proj.weight"})
    yield "LLaDA 2: an expert's tensor missing", generate(path, *short), None, None
    path = fresh("llada2-expert-shape", FIXTURE2)
    def reshape(h):
        h["model.layers.1.mlp.experts.0.down_proj.weight"]["shape"] = [64, 128]
        return h
    shard_header(os.path.join(path, "model.safetensors"), reshape)
    yield "LLaDA 2: an expert's tensor misshapen", generate(path, *short), None, None
    path = fresh("llada2-no-mask", FIXTURE2)
    edit_json(os.path.join(path, "tokenizer.json"),
              lambda t: [a.__setitem__("content", "<|masked|>") for a in t["added_tokens"] if a["content"] == "<|mask|>"])
    yield "LLaDA 2: a tokenizer without <|mask|>", generate(path, *short), None, None
    path = fresh("llada2-odd-width", FIXTURE2)
    edit_json(os.path.join(path, "config.json"), lambda c: c.update(moe_intermediate_size=48))
    yield "LLaDA 2: llada-quantize, config (moe_intermediate_size 48) and weights disagree", [QUANTIZE, path, "-o", os.path.join(WORK, "x2.lpk"), "--type", "q4"], None, None

    yield "llada-quantize", None, None, None
    yield "unknown type", [QUANTIZE, FIXTURE, "-o", os.path.join(WORK, "x.lpk"), "--type", "q3"], None, None
    yield "threads 0", [QUANTIZE, FIXTURE, "-o", os.path.join(WORK, "x.lpk"), "--threads", "0"], None, None
    yield "output directory missing", [QUANTIZE, FIXTURE, "-o", os.path.join(WORK, "no", "x.lpk")], None, None
    yield "source is not a checkpoint", [QUANTIZE, empty, "-o", os.path.join(WORK, "x.lpk")], None, None
    yield "inspect a JSON file", [QUANTIZE, "inspect", os.path.join(FIXTURE, "config.json")], None, None


def main():
    failures = 0
    print("| bad input | exit | message (stderr) |")
    print("|---|---|---|")
    for what, command, stdin, _ in cases():
        if command is None:
            print(f"| **{what}** | | |")
            continue
        try:
            result = subprocess.run(command, input=stdin or b"", capture_output=True, timeout=120)
            code, stderr, stdout = result.returncode, result.stderr.decode(errors="replace"), result.stdout
        except subprocess.TimeoutExpired:
            code, stderr, stdout = None, "HUNG", b""
        lines = stderr.split("\n")
        clean = code is not None and code > 0 and len(lines) == 2 and lines[1] == "" and lines[0].startswith("error: ") and not stdout
        if not clean:
            failures += 1
            print(f"FAILED: {what}: exit {code}, stdout {stdout[:200]!r}, stderr {stderr!r}", file=sys.stderr)
        message = lines[0].replace("|", "\\|").replace(os.path.abspath(ROOT) + "/", "")
        print(f"| {what} | {code} | `{message}` |")
    shutil.rmtree(WORK, ignore_errors=True)
    if failures:
        sys.exit(f"{failures} bad inputs were not refused cleanly")


if __name__ == "__main__":
    main()
