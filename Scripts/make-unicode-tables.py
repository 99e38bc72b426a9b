#!/usr/bin/env python3
"""The Unicode tables of the tokenizer's normalizers (Sources/LLaDATokenizer/NFCData.swift and
NFKCData.swift), from Python's `unicodedata`: standard library only.

    python3 Scripts/make-unicode-tables.py                    # rewrites both files
    python3 Scripts/make-unicode-tables.py --output DIR       # writes them into DIR instead
    python3 Scripts/make-unicode-tables.py --unicode-version  # prints this Python's unicodedata version
    python3 Scripts/make-unicode-tables.py --ages             # prints AGES_AFTER_9_0 as "version first last" lines

`tokenizers` (0.22.2) normalizes with Unicode 9.0 tables: a character assigned later has combining class
0 and no decomposition for it. Python's unicodedata is newer (Unicode 14.0.0 in Python 3.11), so only the
characters assigned in Unicode <= 9.0 are kept. The standard library has no character ages: the code
points first assigned in Unicode 10.0 to 17.0 are listed below (DerivedAge.txt, as Swift's
Unicode.Scalar.Properties.age reports it; TokenizerUnicodeTablesTests checks the list against it), and
checked against unicodedata itself on every run. Decomposition mappings, combining classes and
composition exclusions of assigned characters never change (Unicode's normalization stability policy),
so the data is Unicode 9.0's whatever the unicodedata version (the same with 9.0.0 to 15.1.0, Python 3.6
to 3.13); only the version named in the headers differs. TokenizerUnicodeTablesTests regenerates both
files when this Python's unicodedata has the version the committed headers name, and compares them
byte for byte.
"""
import os
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUTPUT = os.path.join(ROOT, "Sources/LLaDATokenizer")
TOKENIZERS = "0.22.2"
# Code points assigned in Unicode 9.0 (characters, private use and surrogates; not the 66 noncharacters).
ASSIGNED_IN_9_0 = 267753

# Code points first assigned after Unicode 9.0, by version (DerivedAge.txt of Unicode 17.0, as Swift 6.3's
# Unicode.Scalar.Properties.age gives it).
AGES_AFTER_9_0 = {
    "10.0": """
        0860..086A 09FC..09FD 0AFA..0AFF 0D00 0D3B..0D3C 1CF7 1DF6..1DF9 20BF 23FF 2BD2 2E45..2E49
        312E 9FD6..9FEA 1032D..1032F 11A00..11A47 11A50..11A83 11A86..11A9C 11A9E..11AA2
        11D00..11D06 11D08..11D09 11D0B..11D36 11D3A 11D3C..11D3D 11D3F..11D47 11D50..11D59 16FE1
        1B002..1B11E 1B170..1B2FB 1F260..1F265 1F6D3..1F6D4 1F6F7..1F6F8 1F900..1F90B 1F91F
        1F928..1F92F 1F931..1F932 1F94C 1F95F..1F96B 1F992..1F997 1F9D0..1F9E6 2CEB0..2EBE0
    """,
    "11.0": """
        0560 0588 05EF 07FD..07FF 08D3 09FE 0A76 0C04 0C84 1878 1C90..1CBA 1CBD..1CBF 2BBA..2BBC
        2BD3..2BEB 2BF0..2BFE 2E4A..2E4E 312F 9FEB..9FEF A7AF A7B8..A7B9 A8FE..A8FF 10A34..10A35
        10A48 10D00..10D27 10D30..10D39 10F00..10F27 10F30..10F59 110CD 11144..11146 1133B 1145E
        1171A 11800..1183B 11A9D 11D60..11D65 11D67..11D68 11D6A..11D8E 11D90..11D91 11D93..11D98
        11DA0..11DA9 11EE0..11EF8 16E40..16E9A 187ED..187F1 1D2E0..1D2F3 1D372..1D378 1EC71..1ECB4
        1F12F 1F6F9 1F7D5..1F7D8 1F94D..1F94F 1F96C..1F970 1F973..1F976 1F97A 1F97C..1F97F
        1F998..1F9A2 1F9B0..1F9B9 1F9C1..1F9C2 1F9E7..1F9FF 1FA60..1FA6D
    """,
    "12.0": """
        0C77 0E86 0E89 0E8C 0E8E..0E93 0E98 0EA0 0EA8..0EA9 0EAC 0EBA 1CFA 2BC9 2BFF 2E4F A7BA..A7BF
        A7C2..A7C6 AB66..AB67 10FE0..10FF6 1145F 116B8 119A0..119A7 119AA..119D7 119DA..119E4
        11A84..11A85 11FC0..11FF1 11FFF 13430..13438 16F45..16F4A 16F4F 16F7F..16F87 16FE2..16FE3
        187F2..187F7 1B150..1B152 1B164..1B167 1E100..1E12C 1E130..1E13D 1E140..1E149 1E14E..1E14F
        1E2C0..1E2F9 1E2FF 1E94B 1ED01..1ED3D 1F16C 1F6D5 1F6FA 1F7E0..1F7EB 1F90D..1F90F 1F93F
        1F971 1F97B 1F9A5..1F9AA 1F9AE..1F9AF 1F9BA..1F9BF 1F9C3..1F9CA 1F9CD..1F9CF 1FA00..1FA53
        1FA70..1FA73 1FA78..1FA7A 1FA80..1FA82 1FA90..1FA95
    """,
    "12.1": """
        32FF
    """,
    "13.0": """
        08BE..08C7 0B55 0D04 0D81 1ABF..1AC0 2B97 2E50..2E52 31BB..31BF 4DB6..4DBF 9FF0..9FFC
        A7C7..A7CA A7F5..A7F6 A82C AB68..AB6B 1019C 10E80..10EA9 10EAB..10EAD 10EB0..10EB1
        10FB0..10FCB 11147 111CE..111CF 1145A 11460..11461 11900..11906 11909 1190C..11913
        11915..11916 11918..11935 11937..11938 1193B..11946 11950..11959 11FB0 16FE4 16FF0..16FF1
        18AF3..18CD5 18D00..18D08 1F10D..1F10F 1F16D..1F16F 1F1AD 1F6D6..1F6D7 1F6FB..1F6FC
        1F8B0..1F8B1 1F90C 1F972 1F977..1F978 1F9A3..1F9A4 1F9AB..1F9AD 1F9CB 1FA74 1FA83..1FA86
        1FA96..1FAA8 1FAB0..1FAB6 1FAC0..1FAC2 1FAD0..1FAD6 1FB00..1FB92 1FB94..1FBCA 1FBF0..1FBF9
        2A6D7..2A6DD 30000..3134A
    """,
    "14.0": """
        061D 0870..088E 0890..0891 0898..089F 08B5 08C8..08D2 0C3C 0C5D 0CDD 170D 1715 171F 180F
        1AC1..1ACE 1B4C 1B7D..1B7E 1DFA 20C0 2C2F 2C5F 2E53..2E5D 9FFD..9FFF A7C0..A7C1 A7D0..A7D1
        A7D3 A7D5..A7D9 A7F2..A7F4 FBC2 FD40..FD4F FDCF FDFE..FDFF 10570..1057A 1057C..1058A
        1058C..10592 10594..10595 10597..105A1 105A3..105B1 105B3..105B9 105BB..105BC 10780..10785
        10787..107B0 107B2..107BA 10F70..10F89 11070..11075 110C2 116B9 11740..11746 11AB0..11ABF
        12F90..12FF2 16A70..16ABE 16AC0..16AC9 1AFF0..1AFF3 1AFF5..1AFFB 1AFFD..1AFFE 1B11F..1B122
        1CF00..1CF2D 1CF30..1CF46 1CF50..1CFC3 1D1E9..1D1EA 1DF00..1DF1E 1E290..1E2AE 1E7E0..1E7E6
        1E7E8..1E7EB 1E7ED..1E7EE 1E7F0..1E7FE 1F6DD..1F6DF 1F7F0 1F979 1F9CC 1FA7B..1FA7C
        1FAA9..1FAAC 1FAB7..1FABA 1FAC3..1FAC5 1FAD7..1FAD9 1FAE0..1FAE7 1FAF0..1FAF6 2A6DE..2A6DF
        2B735..2B738
    """,
    "15.0": """
        0CF3 0ECE 10EFD..10EFF 1123F..11241 11B00..11B09 11F00..11F10 11F12..11F3A 11F3E..11F59
        1342F 13439..13455 1B132 1B155 1D2C0..1D2D3 1DF25..1DF2A 1E030..1E06D 1E08F 1E4D0..1E4F9
        1F6DC 1F774..1F776 1F77B..1F77F 1F7D9 1FA75..1FA77 1FA87..1FA88 1FAAD..1FAAF 1FABB..1FABD
        1FABF 1FACE..1FACF 1FADA..1FADB 1FAE8 1FAF7..1FAF8 2B739 31350..323AF
    """,
    "15.1": """
        2FFC..2FFF 31EF 2EBF0..2EE5D
    """,
    "16.0": """
        0897 1B4E..1B4F 1B7F 1C89..1C8A 2427..2429 31E4..31E5 A7CB..A7CD A7DA..A7DC 105C0..105F3
        10D40..10D65 10D69..10D85 10D8E..10D8F 10EC2..10EC4 10EFC 11380..11389 1138B 1138E
        11390..113B5 113B7..113C0 113C2 113C5 113C7..113CA 113CC..113D5 113D7..113D8 113E1..113E2
        116D0..116E3 11BC0..11BE1 11BF0..11BF9 11F5A 13460..143FA 16100..16139 16D40..16D79 18CFF
        1CC00..1CCF9 1CD00..1CEB3 1E5D0..1E5FA 1E5FF 1F8B2..1F8BB 1F8C0..1F8C1 1FA89 1FA8F 1FABE
        1FAC6 1FADC 1FADF 1FAE9 1FBCB..1FBEF
    """,
    "17.0": """
        088F 0C5C 0CDC 1ACF..1ADD 1AE0..1AEB 20C1 2B96 A7CE..A7CF A7D2 A7D4 A7F1 FBC3..FBD2
        FD90..FD91 FDC8..FDCE 10940..10959 10EC5..10EC7 10ED0..10ED8 10EFA..10EFB 11B60..11B67
        11DB0..11DDB 11DE0..11DE9 16EA0..16EB8 16EBB..16ED3 16FF2..16FF6 187F8..187FF 18D09..18D1E
        18D80..18DF2 1CCFA..1CCFC 1CEBA..1CED0 1CEE0..1CEF0 1E6C0..1E6DE 1E6E0..1E6F5 1E6FE..1E6FF
        1F6D8 1F777..1F77A 1F8D0..1F8D8 1FA54..1FA57 1FA8A 1FA8E 1FAC8 1FACD 1FAEA 1FAEF 1FBFA
        2B73A..2B73F 2CEA2..2CEAD 323B0..33479
    """,
}


def version_tuple(text):
    return tuple(int(part) for part in text.split("."))


def code_points(ranges):
    for item in ranges.split():
        first, _, last = item.partition("..")
        yield from range(int(first, 16), int(last or first, 16) + 1)


def later_code_points():
    """The code points assigned after Unicode 9.0, after checking AGES_AFTER_9_0 against unicodedata:
    the ranges of versions up to its own are assigned, later ones are not, and what remains is
    exactly Unicode 9.0's number of assigned code points."""
    version = version_tuple(unicodedata.unidata_version)
    newest = max(AGES_AFTER_9_0, key=version_tuple)
    if version[:2] > version_tuple(newest):
        sys.exit(f"unicodedata {unicodedata.unidata_version} is newer than AGES_AFTER_9_0 (up to {newest}): "
                 "add the later ranges of DerivedAge.txt")
    later = set()
    known = 0
    for age, ranges in AGES_AFTER_9_0.items():
        expect_assigned = version_tuple(age) <= version[:2]
        for c in code_points(ranges):
            if (unicodedata.category(chr(c)) != "Cn") != expect_assigned:
                sys.exit(f"AGES_AFTER_9_0 says U+{c:04X} came in {age}, unicodedata {unicodedata.unidata_version} "
                         f"{'lacks' if expect_assigned else 'has'} it")
            known += expect_assigned
            later.add(c)
    assigned = sum(1 for c in range(0x110000) if unicodedata.category(chr(c)) != "Cn")
    if assigned - known != ASSIGNED_IN_9_0:
        sys.exit(f"unicodedata {unicodedata.unidata_version} assigns {assigned} code points, {known} of them after 9.0 "
                 f"per AGES_AFTER_9_0: {assigned - known}, not Unicode 9.0's {ASSIGNED_IN_9_0}")
    return later


def unicode_9_characters():
    later = later_code_points()
    return [chr(c) for c in range(0x110000)
            if not 0xD800 <= c < 0xE000 and c not in later and unicodedata.category(chr(c)) != "Cn"]


def canonical_mapping(ch):
    """The canonical decomposition mapping of `ch` (one level), or None."""
    fields = unicodedata.decomposition(ch).split()
    if not fields or fields[0].startswith("<"):
        return None
    return [int(field, 16) for field in fields]


def array_lines(values, per_line):
    """Swift array elements, `per_line` a line: hexadecimal, or as given when already a string."""
    items = [v if isinstance(v, str) else f"0x{v:X}" for v in values]
    return "\n".join("        " + ", ".join(items[i:i + per_line]) + "," for i in range(0, len(items), per_line))


def nfc_data(characters):
    decompositions, exclusions, classes = [], [], []
    for ch in characters:
        c = ord(ch)
        mapping = None if 0xAC00 <= c <= 0xD7A3 else canonical_mapping(ch)  # Hangul: arithmetic
        if mapping:
            assert len(mapping) <= 2, f"U+{c:04X}"
            decompositions += [c, mapping[0], mapping[1] if len(mapping) == 2 else 0]
            if len(mapping) == 2 and unicodedata.normalize("NFC", ch) != ch:
                exclusions.append(c)
        cls = unicodedata.combining(ch)
        if cls:
            if classes and classes[-1][1] == c - 1 and classes[-1][2] == cls:
                classes[-1][1] = c
            else:
                classes.append([c, c, cls])
    ranges = [value for first, last, cls in classes for value in (first, last, str(cls))]
    return f"""// Generated by Scripts/make-unicode-tables.py from Python's unicodedata {unicodedata.unidata_version}, restricted to the
// characters assigned in Unicode <= 9.0 (DerivedAge, as Unicode.Scalar.Properties.age), the version
// of the tables behind tokenizers' NFC. Do not edit by hand.

enum NFCData {{
    /// Canonical decomposition mappings as (scalar, first, second or 0 for a singleton); Hangul
    /// syllables are decomposed algorithmically and not listed.
    static let decompositions: [UInt32] = [
{array_lines(decompositions, 12)}
    ]

    /// Characters with a two-character canonical decomposition that NFC does not recompose
    /// (composition exclusions and non-starter decompositions).
    static let compositionExclusions: [UInt32] = [
{array_lines(exclusions, 10)}
    ]

    /// Non-zero canonical combining classes as (first, last, class) ranges.
    static let combiningClassRanges: [UInt32] = [
{array_lines(ranges, 15)}
    ]
}}
"""


def nfkc_data(characters):
    values = []
    for ch in characters:
        nfkd = unicodedata.normalize("NFKD", ch)
        if nfkd != unicodedata.normalize("NFD", ch):
            values += [ord(ch), len(nfkd)] + [ord(x) for x in nfkd]
    return f"""// Generated by Scripts/make-unicode-tables.py from Python's unicodedata {unicodedata.unidata_version}: NFKD as tokenizers
// {TOKENIZERS} computes it, with its Unicode 9.0 tables (characters assigned later have no decomposition).
// Do not edit by hand.

enum NFKCData {{
    /// For every scalar whose NFKD differs from its NFD: the scalar, the number n of scalars of its
    /// NFKD, then those n scalars (fully decomposed and canonically ordered).
    static let compatibilityDecompositions: [UInt32] = [
{array_lines(values, 12)}
    ]
}}
"""


def main():
    arguments = sys.argv[1:]
    if arguments == ["--unicode-version"]:
        print(unicodedata.unidata_version)
        return
    if arguments == ["--ages"]:
        for age, ranges in AGES_AFTER_9_0.items():
            for item in ranges.split():
                first, _, last = item.partition("..")
                print(age, first, last or first)
        return
    if arguments and (len(arguments) != 2 or arguments[0] != "--output"):
        sys.exit(__doc__)
    output = arguments[1] if arguments else DEFAULT_OUTPUT
    characters = unicode_9_characters()
    for name, text in (("NFCData.swift", nfc_data(characters)), ("NFKCData.swift", nfkc_data(characters))):
        path = os.path.join(output, name)
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {path} (unicodedata {unicodedata.unidata_version})")


if __name__ == "__main__":
    main()
