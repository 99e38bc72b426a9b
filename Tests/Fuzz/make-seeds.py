#!/usr/bin/env python3
"""Writes the fuzz seed corpus (Tests/Fuzz/corpus/<target>/): small valid inputs of every
format, so libFuzzer starts from files that pass the parsers and mutates from there.

    python3 Tests/Fuzz/make-seeds.py .build/release/llada-quantize

The packed seeds are converted from a tiny checkpoint (d_model 32, one layer) by llada-quantize.
"""
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FIXTURE = os.path.join(ROOT, "Tests", "Fixtures", "llada-tiny-tasks")
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def copy(target, name, path):
    with open(path, "rb") as f:
        write(target, name, f.read())


def safetensors(tensors, metadata=None):
    """tensors: [(name, dtype, shape, bytes)] -> file bytes."""
    header, payload = {}, b""
    if metadata:
        header["__metadata__"] = metadata
    for name, dtype, shape, data in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(payload), len(payload) + len(data)]}
        payload += data
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + payload


def bf16(values):
    return b"".join(struct.pack("<f", v)[2:] for v in values)


def f32(values):
    return b"".join(struct.pack("<f", v) for v in values)


def tiny_config(d_model, layers, hidden, vocab):
    config = json.load(open(os.path.join(FIXTURE, "config.json")))
    config.update(d_model=d_model, n_heads=2, n_kv_heads=2, n_layers=layers, mlp_hidden_size=hidden,
                  vocab_size=vocab, embedding_size=vocab, mask_token_id=vocab - 1, eos_token_id=vocab - 2,
                  pad_token_id=vocab - 2, max_sequence_length=64)
    return config


def layout(config):
    d, hidden, vocab = config["d_model"], config["mlp_hidden_size"], config["embedding_size"]
    names = [("model.transformer.wte.weight", [vocab, d])]
    for layer in range(config["n_layers"]):
        p = f"model.transformer.blocks.{layer}."
        names += [(p + "attn_norm.weight", [d]), (p + "q_proj.weight", [d, d]), (p + "k_proj.weight", [d, d]),
                  (p + "v_proj.weight", [d, d]), (p + "attn_out.weight", [d, d]), (p + "ff_norm.weight", [d]),
                  (p + "ff_proj.weight", [hidden, d]), (p + "up_proj.weight", [hidden, d]), (p + "ff_out.weight", [d, hidden])]
    return names + [("model.transformer.ln_f.weight", [d]), ("model.transformer.ff_out.weight", [vocab, d])]


def checkpoint_tensors(config, encode, seed=0):
    rng = random.Random(seed)
    tensors = []
    for name, shape in layout(config):
        count = 1
        for dim in shape:
            count *= dim
        values = [1.0] * count if name.endswith("norm.weight") else [rng.gauss(0, 0.05) for _ in range(count)]
        tensors.append((name, "BF16" if encode is bf16 else "F32", shape, encode(values)))
    return tensors


def mini_tokenizer():
    """The fixture tokenizer cut down to its 256 byte symbols, its first merges and its added tokens."""
    full = json.load(open(os.path.join(FIXTURE, "tokenizer.json")))
    vocab = full["model"]["vocab"]
    by_id = sorted(vocab.items(), key=lambda item: item[1])
    kept = {token: i for i, (token, _) in enumerate(by_id[:256])}
    merges = []
    for merge in full["model"]["merges"]:
        left, right = merge if isinstance(merge, list) else merge.split(" ")
        if left in kept and right in kept and left + right in vocab and len(merges) < 8:
            kept.setdefault(left + right, len(kept))
            merges.append([left, right])
    full["model"]["vocab"] = kept
    full["model"]["merges"] = merges
    added = []
    for token in full["added_tokens"]:
        added.append(dict(token, id=len(kept) + len(added)))
    full["added_tokens"] = added
    return full


def main():
    quantize = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "llada-quantize")
    shutil.rmtree(CORPUS, ignore_errors=True)

    # safetensors: a tiny checkpoint shard, mixed dtypes with metadata, an empty tensor, an empty file.
    small = tiny_config(8, 1, 16, 16)
    write("safetensors", "tiny-bf16.safetensors", safetensors(checkpoint_tensors(small, bf16)))
    write("safetensors", "mixed.safetensors", safetensors(
        [("a", "F32", [2, 3], f32(range(6))), ("b", "I64", [2], struct.pack("<qq", -1, 7)),
         ("c", "BF16", [0, 4], b""), ("d", "U8", [3], b"xyz")], metadata={"format": "pt"}))
    write("safetensors", "header-only.safetensors", safetensors([]))

    # The shard index of the fixture and a one-shard one.
    copy("shard-index", "fixture.json", os.path.join(FIXTURE, "model.safetensors.index.json"))
    write("shard-index", "one.json", json.dumps({"metadata": {"total_size": 64}, "weight_map": {"a": "model-1.safetensors"}}))

    # config.json: the fixture, a tiny one, LLaDA-8B's dimensions.
    fixture_config = json.load(open(os.path.join(FIXTURE, "config.json")))
    write("config", "fixture.json", json.dumps(fixture_config, indent=2))
    write("config", "tiny.json", json.dumps(tiny_config(32, 1, 64, 64)))
    write("config", "8b.json", json.dumps(dict(fixture_config, d_model=4096, n_heads=32, n_kv_heads=32, n_layers=32,
                                                 mlp_hidden_size=12288, vocab_size=126464, embedding_size=126464,
                                                 mask_token_id=126336, max_sequence_length=4096)))
    # LLaDA 2: the fixture's config and LLaDA2.0-mini's shape.
    llada2 = json.load(open(os.path.join(ROOT, "Tests", "Fixtures", "llada2-tiny-tasks", "config.json")))
    write("config", "llada2-fixture.json", json.dumps(llada2, indent=2))
    mini = dict(llada2, hidden_size=2048, num_hidden_layers=20, num_attention_heads=16, num_key_value_heads=4, head_dim=128,
                intermediate_size=5120, moe_intermediate_size=512, num_experts=256, num_experts_per_tok=8, n_group=8,
                topk_group=4, vocab_size=157184, max_position_embeddings=16384, rope_theta=600000, partial_rotary_factor=0.5)
    mini.pop("rotary_dim", None)
    write("config", "llada2-mini.json", json.dumps(mini, indent=1))

    # tokenizer.json: the fixture's and the cut-down one.
    copy("tokenizer-json", "fixture.json", os.path.join(FIXTURE, "tokenizer.json"))
    write("tokenizer-json", "mini.json", json.dumps(mini_tokenizer()))

    # Text for the encoder (the fixture tokenizer): specials, NFC cases, scripts, invalid UTF-8.
    texts = {
        "chat.txt": "<|startoftext|><|start_header_id|>user<|end_header_id|>\n\nreverse: abcd<|eot_id|>",
        "nfc.txt": "e\u0301 \u00e9 A\u030a \u1e9b\u0323 \ufb01 \u212b",
        "scripts.txt": "Grüße, 你好, こんにちは, مرحبا, 😀👍🏽 don't I'll 123456 \t\r\n  x",
        "numbers.txt": "sort: 6 5 9 2 8\nadd: 12+34=",
        "invalid.bin": b"\xff\xfe abc \xc3\x28 \xe2\x82 \xf0\x9f\x98",
    }
    for name, text in texts.items():
        write("tokenizer-encode", name, text)

    # Packed files: q4 and f32 (LZ4 + byte shuffle) conversions of a tiny checkpoint with the mini tokenizer,
    # named .packed because .gitignore keeps *.lpk (converted models) out of the repository.
    with tempfile.TemporaryDirectory() as work:
        source = os.path.join(work, "tiny")
        os.makedirs(source)
        config = tiny_config(32, 1, 64, 64)
        json.dump(config, open(os.path.join(source, "config.json"), "w"))
        json.dump(mini_tokenizer(), open(os.path.join(source, "tokenizer.json"), "w"))
        with open(os.path.join(source, "model.safetensors"), "wb") as f:
            f.write(safetensors(checkpoint_tensors(config, f32)))
        for kind in ["q4", "f32"]:
            output = os.path.join(work, f"tiny-{kind}.lpk")
            subprocess.run([quantize, source, "-o", output, "--type", kind, "--threads", "1"], check=True, stdout=subprocess.DEVNULL)
            copy("packed", f"tiny-{kind}.packed", output)


if __name__ == "__main__":
    main()
