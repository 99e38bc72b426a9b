#!/usr/bin/env python3
"""Renders conversations with the chat templates of the published LLaDA-8B tokenizer_config.json
files, the way transformers' apply_chat_template does (Jinja2 sandbox, trim_blocks, lstrip_blocks),
and writes the expected strings for ChatTemplateRealConfigTests.

    pip install Jinja2==3.1.6
    python3 Scripts/make-chat-template-cases.py   # writes Tests/Fixtures/llada-8b-configs/chat-template-cases.json
"""
import json
import pathlib
import random

from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "Fixtures" / "llada-8b-configs"


def conversations():
    fixed = [
        [{"role": "user", "content": "What is 12 + 30?"}],
        [{"role": "user", "content": "  padded  \n\t"}],
        [{"role": "user", "content": "-5 plus 3"}],
        [{"role": "user", "content": ""}],
        [{"role": "user", "content": "\u3000ideographic\u00a0nbsp\u2028"}],
        [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "Hi"}],
        [{"role": "user", "content": "reverse: abcd"}, {"role": "assistant", "content": "dcba"},
         {"role": "user", "content": "and again: xyz "}],
        [{"role": "user", "content": "emoji 🙂👍🏽 and 中文"}, {"role": "assistant", "content": " 好 \n"},
         {"role": "user", "content": "<|eot_id|> inside text"}, {"role": "assistant", "content": "ok"},
         {"role": "user", "content": "last"}],
    ]
    rng = random.Random(14)
    pieces = ["hello", "  ", "\n", "\t", "42", "-x", "é", "e\u0301", "中", "🙂", "\u00a0", "\u2003", "{{ x }}", "'quote'", "\r\n"]
    generated = []
    for _ in range(40):
        turns = rng.randint(1, 6)
        messages = []
        if rng.random() < 0.2:
            messages.append({"role": "system", "content": "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))})
        for turn in range(turns):
            role = "user" if turn % 2 == 0 else "assistant"
            messages.append({"role": role, "content": "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))})
        generated.append(messages)
    return fixed + generated


def main():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    out = {}
    for release in ["instruct", "base", "1.5"]:
        config = json.loads((ROOT / release / "tokenizer_config.json").read_text())
        template = env.from_string(config["chat_template"])
        out[release] = [
            {"messages": messages,
             "rendered": template.render(messages=messages, bos_token=config["bos_token"], add_generation_prompt=True)}
            for messages in conversations()
        ]
    (ROOT / "chat-template-cases.json").write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n")
    print(f"wrote {sum(len(v) for v in out.values())} cases")


if __name__ == "__main__":
    main()
