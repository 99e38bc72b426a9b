#!/usr/bin/env python3
"""Reference data for the tokenizer's pipeline components, made with Hugging Face `tokenizers`.

    pip install tokenizers==0.22.2
    python3 Scripts/make-tokenizer-cases.py            # writes Tests/Fixtures/tokenizer-components/
    python3 Scripts/make-tokenizer-cases.py --check-nfkc-data   # only compares NFKCData.swift with tokenizers' NFKD

Each configuration is the fixture tokenizer (Tests/Fixtures/tokenizer/tokenizer.json: LLaDA's pipeline
on a 480-entry byte-level BPE) with its normalizer, pre-tokenizer, post-processor, decoder or id layout
changed. For each one the script writes CONFIG.tokenizer.json (as `tokenizers` itself saves it) and
CONFIG.cases.json: for every text of texts.json the ids of encode(text, add_special_tokens=False) and
=True, and decode(those ids with special tokens, skip_special_tokens=False) and =True; then decodes of
random id lists (ids in gaps of the id space included). normalizers.json holds, for each normalizer,
its output on one text made of every character any of them changes (exhaustive per character).

Everything is seeded, so a rerun gives the same files.
"""
import json
import os
import random
import sys

import tokenizers
from tokenizers import Tokenizer
from tokenizers import normalizers as N

VERSION = "0.22.2"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = os.path.join(ROOT, "Tests/Fixtures/tokenizer/tokenizer.json")
OUT = os.path.join(ROOT, "Tests/Fixtures/tokenizer-components")
SWIFT_DATA = os.path.join(ROOT, "Sources/LLaDATokenizer/NFKCData.swift")

LLADA_SPLIT = r"'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"
CL100K = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
O200K = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
         r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
         r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")


def byte_level(add_prefix_space, use_regex):
    return {"type": "ByteLevel", "add_prefix_space": add_prefix_space, "trim_offsets": True, "use_regex": use_regex}


def split(pattern, behavior="Isolated", invert=False, literal=False):
    return {"type": "Split", "pattern": {"String" if literal else "Regex": pattern}, "behavior": behavior,
            "invert": invert}


def added(content, special=True, normalized=False):
    # The id does not matter: tokenizers assigns added token ids itself (and saves those).
    return {"id": 0, "content": content, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": normalized, "special": special}


def template(single, tokens):
    return {"type": "TemplateProcessing", "single": single, "pair": single + [{"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in tokens}}


def special_item(token):
    return {"SpecialToken": {"id": token, "type_id": 0}}


SEQUENCE_A = {"Sequence": {"id": "A", "type_id": 0}}


# --- configurations: (name, what it covers, edit of the fixture tokenizer.json) ----------------------

def cfg_llada(d):
    pass


def cfg_nfkc(d):
    d["normalizer"] = {"type": "NFKC"}
    # A normalised added token: its content is NFKC-normalised ("ﬁx" -> "fix") and matched after NFKC.
    d["added_tokens"].append(added("\ufb01x", special=False, normalized=True))


def cfg_bytelevel(d):
    d["normalizer"] = None
    d["pre_tokenizer"] = byte_level(False, True)
    d["post_processor"] = {"type": "BertProcessing", "sep": ["<|endoftext|>", 481], "cls": ["<|startoftext|>", 480]}


def cfg_bytelevel_prefix(d):
    d["normalizer"] = None
    d["pre_tokenizer"] = byte_level(True, True)
    d["post_processor"] = {"type": "RobertaProcessing", "sep": ["<|endoftext|>", 481], "cls": ["<|startoftext|>", 480],
                           "trim_offsets": True, "add_prefix_space": True}


def cfg_cl100k(d):
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [split(CL100K), byte_level(False, False)]}
    d["decoder"] = {"type": "Sequence", "decoders": [byte_level(True, True), {"type": "Fuse"}]}


def cfg_template(d):
    single = [special_item("<|startoftext|>"), SEQUENCE_A, special_item("<|endoftext|>")]
    d["post_processor"] = {"type": "Sequence", "processors": [
        byte_level(False, False), template(single, [("<|startoftext|>", 480), ("<|endoftext|>", 481)])]}


def cfg_id_gaps(d):
    # Holes in the vocabulary ids (300..309: those tokens move to 126070..126079), the special tokens
    # moved into the vocabulary at 126080.. (as LLaDA's are numbered), and one new added token, which
    # tokenizers numbers len(vocab) = 496 (a hole, so no clash).
    vocab = d["model"]["vocab"]
    specials = [t["content"] for t in d["added_tokens"]]
    remapped = {token: (i + 125770 if 300 <= i < 310 else i) for token, i in vocab.items()}
    for k, token in enumerate(specials):
        remapped[token] = 126080 + k
    d["model"]["vocab"] = dict(sorted(remapped.items(), key=lambda item: item[1]))
    d["added_tokens"].append(added("<|new_token|>", special=False))
    single = [special_item("<|startoftext|>"), SEQUENCE_A]
    d["post_processor"] = template(single, [("<|startoftext|>", 126080)])


def cfg_split_behaviors(d):
    d["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "Lowercase"}, {"type": "NFKD"}]}
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        split(" ", "MergedWithNext", literal=True),
        split(r"\p{N}", "Contiguous"),
        split("-", "MergedWithPrevious", literal=True),
        split(r"[^\t]+", "Removed", invert=True),
        split(r"[\p{P}\p{S}]+", "MergedWithNext", invert=True),
        split("x*", "MergedWithNext"),
        split(r"(?i:[a-z]'s|k)", "Isolated"),
        byte_level(False, True)]}


def cfg_llada_prefix(d):
    # LLaDA's pattern outside the fast path: another behavior, then ByteLevel adding prefix spaces.
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [split(LLADA_SPLIT, "MergedWithPrevious"),
                                                                byte_level(True, False)]}


def cfg_o200k(d):
    d["normalizer"] = {"type": "NFD"}
    d["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [split(O200K), byte_level(False, False)]}


CONFIGS = [
    ("llada", "the fixture as is: NFC, Split(LLaDA's pattern, Isolated) + ByteLevel(use_regex false), no post-processor", cfg_llada),
    ("nfkc", "NFKC + LLaDA's split; a normalized added token", cfg_nfkc),
    ("bytelevel", "no normalizer, ByteLevel(add_prefix_space false, use_regex true) alone, BertProcessing", cfg_bytelevel),
    ("bytelevel-prefix", "no normalizer, ByteLevel(add_prefix_space true, use_regex true), RobertaProcessing", cfg_bytelevel_prefix),
    ("cl100k", "NFC, Split(GPT-4 cl100k pattern) + ByteLevel(use_regex false), decoder Sequence[ByteLevel, Fuse]", cfg_cl100k),
    ("template", "LLaDA + post-processor Sequence[ByteLevel, TemplateProcessing(<|startoftext|> $A <|endoftext|>)]", cfg_template),
    ("id-gaps", "vocabulary ids with holes, special tokens at 126080.. in the vocabulary, a new added token after them, BOS template", cfg_id_gaps),
    ("split-behaviors", "normalizer Sequence[Lowercase, NFKD]; Splits with String and Regex patterns, every behavior, invert, an empty-matching pattern, case-insensitive class; ByteLevel(use_regex true)", cfg_split_behaviors),
    ("llada-prefix", "NFC, Split(LLaDA's pattern, MergedWithPrevious) + ByteLevel(add_prefix_space true, use_regex false)", cfg_llada_prefix),
    ("o200k", "NFD, Split(GPT-4o o200k pattern) + ByteLevel(use_regex false)", cfg_o200k),
]

# --- texts ---------------------------------------------------------------------------------------------

FRAGMENTS = {
    "latin": ["hello", "world", "The", "quick", "brown", "fox", "Über", "caf\u00e9", "cafe\u0301", "na\u00efve",
              "nai\u0308ve", "\u00c5ngstr\u00f6m", "A\u030angstro\u0308m", "r\u00e9sum\u00e9", "\u00c9COLE", "Stra\u00dfe",
              "STRASSE", "\u01c5emal", "\u0130stanbul", "I\u0307", "\u0131", "Dvo\u0159\u00e1k", "\u1ebf", "e\u0302\u0301",
              "a\u0323\u0302", "a\u0302\u0323", "q\u0307\u0323", "\u1e9b\u0323"],
    "greek": ["\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1", "\u03c3\u03bf\u03c6\u03af\u03b1\u03c2", "\u0390",
              "\u03a3\u038a\u03a3\u03a5\u03a6\u039f\u03a3", "\u1f00\u0345", "\u03d0\u03d1"],
    "cyrillic": ["\u041f\u0440\u0438\u0432\u0435\u0442", "\u043c\u0438\u0440", "\u0451\u0436\u0438\u043a",
                 "\u0435\u0308\u0436\u0438\u043a", "\u0419\u0413"],
    "cjk": ["\u65e5\u672c\u8a9e", "\u4e2d\u6587\u5b57\u7b26", "\u6f22\u5b57", "\uff76\uff80\uff76\uff85",
            "\u30ab\u30bf\u30ab\u30ca", "\u3072\u3089\u304c\u306a", "\u30ac", "\u30ab\u3099", "\uff8a\uff9f"],
    "arabic": ["\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645",
               "\u0627\u0644\u0633\u064e\u0651\u0644\u064e\u0627\u0645\u064f", "\ufdfa", "\ufefb"],
    "hebrew": ["\u05e9\u05b8\u05c1\u05dc\u05d5\u05b9\u05dd", "\u05e2\u05d1\u05e8\u05d9\u05ea", "\ufb2a"],
    "devanagari": ["\u0928\u092e\u0938\u094d\u0924\u0947", "\u0939\u093f\u0928\u094d\u0926\u0940", "\u0958",
                   "\u0915\u093c"],
    "thai": ["\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a", "\u0e33", "\u0e4d\u0e32"],
    "hangul": ["\u1100\u1161\u11a8", "\ud55c\uad6d\uc5b4", "\u1112\u119e\u11ab", "\uac00\u11a8", "\u3131\u314f",
               "\u1100\u1161"],
    "emoji": ["\U0001F600", "\U0001F44D\U0001F3FD", "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466",
              "\U0001F3F3\ufe0f\u200d\U0001F308", "\u2764\ufe0f", "\U0001F1EF\U0001F1F5", "1\ufe0f\u20e3",
              "\U0001F9D1\U0001F3FF\u200d\U0001F4BB", "\u270c\U0001F3FB"],
    "digits": ["12345", "3.14159", "1,000,000", "\u0663\u0664\u0665", "\u0967\u0968\u0969", "2024", "0x1F", "\u00b2\u00b3",
               "\u00bd", "\u2460\u2461", "\U0001D7D8\U0001D7D9", "\uff11\uff12\uff13", "1e-9", "42"],
    "space": [" ", "  ", "   ", "\t", "\t\t", "\n", "\r\n", "\n\n\n", "\r", "\u00a0", "\u3000", "\u2003", "\u200b",
              " \n ", "\u0085", "\u2028", " \t\n", "\u00a0\u00a0", "\u202f", "\u1680", "\u000b", "\u000c"],
    "dashes": ["-5 plus 3", "--flag", "\u2014", "\u2013", "\u2212", "-", "a-b-c", "- item", " -1", "x--y"],
    "contractions": ["I'm", "don't", "they're", "we've", "she'll", "he'd", "IT'S", "'S", "'\u017f", "it\u2019s",
                     "WE'LL", "y'all", "'Re", "'ve'", "''s"],
    "punct": ["!!!", "?!", "...", "\u00ab\u00bb", "\u201cquoted\u201d", "(parens)", "[x]", "{}", "#$%&*", "``",
              "<<>>", ";;;", "\u2026", "\u00bf\u00a1", "\u3001\u3002", "@user", "~/", "==>", "\\n", "'"],
    "compat": ["\ufb01", "\ufb02", "\ufb03", "\ufb00", "\uff28\uff45\uff4c\uff4c\uff4f", "\uff21\uff22\uff23\uff11\uff12\uff13",
               "x\u00b2", "\u338f", "\u3392", "\u2163", "\u2460", "\u2122", "\u017f", "\u00b5", "\u212b", "\u212a",
               "\u210c", "\u01c6", "\u337b", "\uff67", "\u1d2c", "\u207f", "\u2082", "\u2002", "\u00a8", "\u00bc",
               "\u0132", "\u33c7", "\u2474", "\u3250", "\U0001D400\U0001D401", "\u1e9b", "\u03d3", "\u2fa1"],
    "code": ["def f(x):\n    return x**2", "if (a && b) { c++; }", "<div class=\"x\">", "$HOME/.config",
             "http://example.com/a?b=c", "x = [1, 2, 3]", "// comment", "SELECT * FROM t;", "\tint i = 0;\r\n"],
    "special": ["<|endoftext|>", "<|startoftext|>", "<|eot_id|>", "<|start_header_id|>user<|end_header_id|>\n\n",
                "<|mdm_mask|>", "<|endoftext", "<|", "<|eot_id|><|eot_id|>", "\ufb01x"],
    "control": ["\u0000", "\u0007", "\u007f", "\ufeff", "\u200d", "\u00ad", "\ue000", "\U0010FFFD", "\u0378",
                "_\u031b\u0f73", "\u0344", "\u0f77", "\u1f80", "\u0301", "\u0345"],
}

JOINERS = ["", "", " ", " ", " ", "  ", "\t", "\n", "\r\n", "\u00a0", ", ", "-", "'", "\u3000", "\n\n"]

FIXED = ["", " ", "  ", "\n", "a", "hello world", " hello", "hello ", "-5 plus 3", "I'm sure they're fine, aren't we?",
         "<|startoftext|>hi<|endoftext|>", "a  b   c    d", "trailing   ", "\t\tindent", "line\r\nline\nline\rline",
         "caf\u00e9 vs cafe\u0301", "\ufb01nance \ufb02ow", "\uff28\uff45\uff4c\uff4c\uff4f \uff37\uff4f\uff52\uff4c\uff44",
         "H\u2082O and E=mc\u00b2", "5\u338f of rice", "\u2460 \u2461 \u2462", "\U0001F468\u200d\U0001F469\u200d\U0001F467 family",
         "\U0001F44D\U0001F3FD\U0001F44D\U0001F3FF", "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
         "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd", "\u0928\u092e\u0938\u094d\u0924\u0947",
         "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35", "\u1100\u1161\u11a8\u1100\u1161", "It'S 'ſ 'K x'LL",
         "x" * 40, "1234567890", "\u00a0\u00a0nbsp", "\u3000ideographic\u3000space", "IT'S THE STRASSE \u0130",
         "a-b--c---d", "   \n\n   ", "<|eot_id|> <|eot_id|>", "\ufb01x and fix", "baab aaa", "\u212bngstr\u00f6m \u212a",
         "\u0000\u0001\u007f", "\ufeffBOM", "\u1e9b\u0323", "_\u031b\u0f73", "\u01c4\u01c5\u01c6"]


def make_texts(count=200, seed=14):
    rng = random.Random(seed)
    kinds = sorted(FRAGMENTS)
    texts = list(FIXED)
    while len(texts) < count:
        parts = []
        for _ in range(rng.randint(1, 4)):
            parts.append(rng.choice(FRAGMENTS[rng.choice(kinds)]))
            parts.append(rng.choice(JOINERS))
        if rng.random() < 0.5:
            parts.pop()
        texts.append("".join(parts))
    return texts


# --- writing --------------------------------------------------------------------------------------------

def dump(path, value):
    """One JSON value per line for lists of records, so diffs stay readable."""
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(value, dict):
            f.write("{\n")
            items = list(value.items())
            for n, (key, item) in enumerate(items):
                comma = "," if n + 1 < len(items) else ""
                if isinstance(item, list) and item and isinstance(item[0], (dict, str)):
                    f.write(f" {json.dumps(key)}: [\n")
                    for m, record in enumerate(item):
                        f.write("  " + json.dumps(record, ensure_ascii=False) + ("," if m + 1 < len(item) else "") + "\n")
                    f.write(f" ]{comma}\n")
                else:
                    f.write(f" {json.dumps(key)}: {json.dumps(item, ensure_ascii=False)}{comma}\n")
            f.write("}\n")
        else:
            json.dump(value, f, ensure_ascii=False)


def build_config(base, edit):
    """The edited tokenizer.json, with the added-token ids tokenizers assigns on loading written in."""
    d = json.loads(json.dumps(base))
    edit(d)
    tokenizer = Tokenizer.from_str(json.dumps(d))
    for token in d["added_tokens"]:
        token["id"] = tokenizer.token_to_id(token["content"])
    saved = json.dumps(d, ensure_ascii=False, separators=(",", ":"))
    reloaded = Tokenizer.from_str(saved)
    assert reloaded.get_vocab(with_added_tokens=True) == tokenizer.get_vocab(with_added_tokens=True)
    return reloaded, saved


def id_space(tokenizer):
    return max(tokenizer.get_vocab(with_added_tokens=True).values()) + 1


def cases_for(tokenizer, texts, rng):
    """Encodings of every text, and decodes of random id lists."""
    probe = tokenizer.encode("x", add_special_tokens=False).ids
    with_special = tokenizer.encode("x", add_special_tokens=True).ids
    start = next(i for i in range(len(with_special)) if with_special[i:i + len(probe)] == probe)
    prefix, suffix = with_special[:start], with_special[start + len(probe):]
    encode = []
    for text in texts:
        plain = tokenizer.encode(text, add_special_tokens=False).ids
        special = tokenizer.encode(text, add_special_tokens=True).ids
        # add_special_tokens=True only wraps the ids (checked for every text, so storing the wrapping
        # once loses nothing).
        assert special == prefix + plain + suffix, (text, plain, special)
        record = {"ids": plain, "decode": tokenizer.decode(special, skip_special_tokens=False)}
        skipped = tokenizer.decode(special, skip_special_tokens=True)
        if skipped != record["decode"]:
            record["decode_skip"] = skipped
        encode.append(record)
    # Random id lists over the whole id space (gaps, special tokens and split UTF-8 sequences included).
    size = id_space(tokenizer)
    vocab = sorted(tokenizer.get_vocab(with_added_tokens=True).values())
    decode = []
    for _ in range(30):
        ids = [rng.randrange(size) if rng.random() < 0.3 else rng.choice(vocab) for _ in range(rng.randint(1, 12))]
        record = {"ids": ids, "decode": tokenizer.decode(ids, skip_special_tokens=False)}
        skipped = tokenizer.decode(ids, skip_special_tokens=True)
        if skipped != record["decode"]:
            record["decode_skip"] = skipped
        decode.append(record)
    return prefix, suffix, encode, decode


def normalizer_checks():
    """For NFD, NFKC and Lowercase, every character the normalizer changes, each followed by a space (a
    starter, so no reordering or composition reaches the next one), and tokenizers' output on that
    text. (NFC is covered by Tests/Fixtures/tokenizer; NFKD is NFKC's table without composition.)"""
    forms = {"NFD": N.NFD(), "NFKC": N.NFKC(), "Lowercase": N.Lowercase()}
    nfkd = N.NFKD()
    changed = {name: [] for name in forms}
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000 or 0xAC01 <= c < 0xD7A4:  # surrogates; Hangul syllables are arithmetic
            continue
        ch = chr(c)
        for name, f in forms.items():
            if f.normalize_str(ch) != ch or (name == "NFKC" and nfkd.normalize_str(ch) != ch):
                changed[name].append(ch)
    hangul = ["\ud7a3", "\uac00\u11a8", "\u1100\u1161\u11a8"]
    inputs = {"NFD": changed["NFD"] + hangul, "NFKC": changed["NFKC"] + hangul, "Lowercase": changed["Lowercase"]}
    checks = []
    for name, f in forms.items():
        text = " ".join(inputs[name])
        checks.append({"normalizer": name, "text": text, "output": f.normalize_str(text)})
    return {"description": "normalize_str of each tokenizers " + VERSION + " normalizer on every character it "
                           "changes (space-separated)", "checks": checks}


def check_nfkc_data():
    """NFKCData.swift (written by Scripts/make-unicode-tables.py from Python's unicodedata) against the
    compatibility decompositions of tokenizers' own NFKD (its Unicode 9.0 tables)."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000 and c != 0x0A]
    joined = "\n".join(chars)
    nfkd = N.NFKD().normalize_str(joined).split("\n")
    nfd = N.NFD().normalize_str(joined).split("\n")
    assert len(nfkd) == len(chars) == len(nfd)
    values = []
    for ch, k, d in zip(chars, nfkd, nfd):
        if k != d:
            values += [ord(ch), len(k)] + [ord(x) for x in k]
    with open(SWIFT_DATA, encoding="utf-8") as f:
        text = f.read()
    start = text.index("[", text.index("compatibilityDecompositions: [UInt32] =") + 39) + 1
    body = text[start:text.index("\n    ]\n}")]
    committed = [int(v, 16) for v in body.replace(",", " ").split()]
    if committed != values:
        sys.exit(f"{SWIFT_DATA}: {len(committed)} values, tokenizers {VERSION}'s NFKD gives {len(values)}: they differ "
                 "(rerun Scripts/make-unicode-tables.py, then look at the first difference)")
    print(f"{SWIFT_DATA}: the {len(values)} values are tokenizers {VERSION}'s NFKD")


def main():
    if tokenizers.__version__ != VERSION:
        sys.exit(f"needs tokenizers=={VERSION} (found {tokenizers.__version__}): pip install tokenizers=={VERSION}")
    if "--check-nfkc-data" in sys.argv:
        check_nfkc_data()
        return
    os.makedirs(OUT, exist_ok=True)
    with open(BASE, encoding="utf-8") as f:
        base = json.load(f)
    texts = make_texts()
    dump(os.path.join(OUT, "texts.json"), {"description": "inputs of every CONFIG.cases.json (same order)",
                                           "texts": texts})
    for n, (name, description, edit) in enumerate(CONFIGS):
        tokenizer, saved = build_config(base, edit)
        with open(os.path.join(OUT, name + ".tokenizer.json"), "w", encoding="utf-8") as f:
            f.write(saved)
        prefix, suffix, encode, decode = cases_for(tokenizer, texts, random.Random(100 + n))
        dump(os.path.join(OUT, name + ".cases.json"), {
            "config": name, "description": description, "tokenizers": VERSION,
            "note": "encode[i] is texts[i]: ids = encode(text, add_special_tokens=False).ids; "
                    "encode(text, add_special_tokens=True).ids = special_prefix + ids + special_suffix for every "
                    "text; decode / decode_skip = decode(special_prefix + ids + special_suffix, "
                    "skip_special_tokens=False / True), decode_skip omitted when equal to decode. decode[j]: "
                    "random id lists and their decodes.",
            "special_prefix": prefix, "special_suffix": suffix, "encode": encode, "decode": decode})
        print(f"{name}: {len(encode)} texts, {len(decode)} decodes")
    dump(os.path.join(OUT, "normalizers.json"), normalizer_checks())


if __name__ == "__main__":
    main()
