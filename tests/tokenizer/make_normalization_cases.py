#!/usr/bin/python3
"""Writes tests/tokenizer/normalization_cases.json: strings and their NFC, NFD, NFKC and NFKD forms
as Python's unicodedata computes them, the reference for the tokenizer's NFC/NFD/NFKC/NFKD normalizers
(which use ICU), and their lowercase form character by character (str.lower on each character: the
full mapping without Final_Sigma context, as Rust's char::to_lowercase in HF's Lowercase). Only characters assigned in Python's Unicode database are used; normalization of
assigned characters is stable across Unicode versions, so ICU's newer tables must agree.

Run from the repository root:  python3 tests/tokenizer/make_normalization_cases.py
"""
import json
import os
import unicodedata

FORMS = ("NFC", "NFD", "NFKC", "NFKD")

# Hand-picked cases: composition, canonical reordering, singletons, exclusions, compatibility.
HAND_PICKED = [
    "",
    "plain ASCII text, nothing to do",
    "e\u0301 caf\u00e9 cafe\u0301",                # composed and decomposed acute
    "a\u0323\u0301 a\u0301\u0323",                 # combining marks in both orders (reordering)
    "\u1e9b\u0323",                                # long s with dot above + dot below (UAX #15 example)
    "\u212b \u2126 \u212a",                        # Angstrom, Ohm, Kelvin signs (singletons)
    "\u0958 \u0915\u093c",                         # Devanagari QA: a composition exclusion
    "\ufb01 \ufb03 \u2460 \u00b2 \u00bd \u2075",    # ligatures, circled digit, superscripts, fraction
    "\uff28\uff45\uff4c\uff4c\uff4f \uff57\uff4f\uff52\uff4c\uff44",  # full-width letters
    "\uff76\uff9e \u30ab\u3099 \u30ac",            # half-width katakana + voiced mark, combining voicing
    "\u1100\u1161\u11a8 \uac01 \ud55c\uad6d\uc5b4",  # Hangul jamo and syllables
    "\u3392 \u33a1 \u2122 \u2026",                 # squared units, trademark, ellipsis
    "\ufe8d\ufe8e \ufdfa",                         # Arabic presentation forms
    "Ti\u1ebfng Vi\u1ec7t c\u00f3 d\u1ea5u",        # Vietnamese stacked diacritics
    "emoji \U0001f600\U0001f44d\U0001f3fd and ZWJ \U0001f468\u200d\U0001f469",
    "\U0001d400\U0001d401 \U0001d7ce",             # mathematical alphanumerics
    "\u00a0no-break\u2003em space\u3000ideographic",
    "o\u0308\u0304 \u01eb\u0304 \u01ed",           # ordering with ogonek and macron
]


def changing_code_points():
    """Every assigned code point that some form changes, except Hangul syllables (sampled)."""
    points = []
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if unicodedata.category(c) == "Cn":
            continue
        if 0xAC00 <= cp <= 0xD7A3:
            if cp % 97 == 0:
                points.append(c)
            continue
        if any(unicodedata.normalize(form, c) != c for form in FORMS):
            points.append(c)
    return points


def lowercase_code_points():
    """Every assigned code point whose lowercase differs from itself."""
    return [chr(cp) for cp in range(0x110000)
            if not 0xD800 <= cp <= 0xDFFF and unicodedata.category(chr(cp)) != "Cn" and chr(cp).lower() != chr(cp)]


def main():
    cases = list(HAND_PICKED)
    cases.append("\u0130stanbul \u03a3\u039f\u03a6\u039f\u03a3 \u1e9e \u2126 \u212a ABC")  # dotted I, final sigma, sharp s
    upper = lowercase_code_points()
    for start in range(0, len(upper), 64):
        cases.append("".join(upper[start:start + 64]))
    points = changing_code_points()
    # Groups of 48 characters; every 5th gets a combining mark after it so that composition and
    # reordering happen across neighbours too.
    for start in range(0, len(points), 48):
        group = points[start:start + 48]
        cases.append("".join(c + ("\u0301" if i % 5 == 4 else "") for i, c in enumerate(group)))
    out = {
        "generator": "tests/tokenizer/make_normalization_cases.py",
        "unicode_version": unicodedata.unidata_version,
        "cases": [dict(text=text, lowercase="".join(c.lower() for c in text),
                       **{form: unicodedata.normalize(form, text) for form in FORMS}) for text in cases],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "normalization_cases.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)
        f.write("\n")
    print(f"{path}: {len(out['cases'])} cases, Unicode {unicodedata.unidata_version}")


if __name__ == "__main__":
    main()
