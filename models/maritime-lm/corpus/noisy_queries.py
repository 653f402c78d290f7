#!/usr/bin/env python3
"""Rewrites part of the user messages of `slmtune data synth` CSV files the way frightened people
type at sea: all capitals, all lower case without punctuation, a typo or two, a panicked repetition.
The calls and the answer of each row are left alone, so every row still follows POLICY.md.

Why: the templates spell every word correctly and in one case. A byte-level BPE tokenizer turns
`HE IS NOT BREATHING` or `engin` into tokens that the clean sentences never contain, so a small model
pretrained on clean text meets them for the first time at sea. Seen in pretraining, they map to the
same situation as their clean spelling.

    python3 noisy_queries.py --seed 1 --exclude ../../../examples/maritime/data/test.csv synth-1.csv

Files are rewritten in place (through a temporary file). A rewritten message that would equal a
message of an --exclude file (compared as `slmtune data synth` deduplicates: lower case, words only)
keeps its template spelling, so the held-out splits stay unseen.
"""
import argparse
import random
import re
import sys

from synth_csv import read_rows, write_rows

# Keys next to each other on a QWERTY keyboard, for slips of the finger.
NEIGHBOURS = {
    "a": "qsz", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo",
    "j": "hk", "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et",
    "s": "ad", "t": "ry", "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def dedup_key(query):
    """src/data/synth.cpp's dedup_key: runs of letters, digits and non-ASCII, lower-cased. That one
    lowers ASCII only; lowering every letter here can only make more messages equal, so a rewrite is
    refused at least wherever `data synth --exclude` would refuse it."""
    return " ".join(re.findall(r"[0-9a-z\x80-\U0010ffff]+", query.lower()))


def typo(word, rng):
    """One slip in a word: two letters swapped, one dropped, one doubled or a neighbouring key."""
    i = rng.randrange(1, len(word) - 1)  # keep the first and last letter: they carry most of a word
    kind = rng.choice(("swap", "drop", "double", "neighbour"))
    if kind == "swap":
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "double":
        return word[:i] + word[i] + word[i:]
    keys = NEIGHBOURS.get(word[i].lower())
    return word[:i] + rng.choice(keys) + word[i + 1:] if keys else word


def with_typos(query, rng):
    words = re.split(r"(\W+)", query)
    candidates = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    for i in rng.sample(candidates, min(len(candidates), rng.choice((1, 1, 2)))):
        words[i] = typo(words[i], rng)
    return "".join(words)


def panicked(query, rng):
    """A word said twice or the message shouted with exclamation marks, as in a hurried call."""
    words = query.rstrip("!?. ").split()
    if len(words) >= 2 and rng.random() < 0.5:
        i = rng.randrange(len(words))
        words.insert(i, words[i])
        return " ".join(words)
    return " ".join(words) + rng.choice(("!!", "!!!", " !!", "!!!!"))


def noisy(query, rng):
    """The message as typed in a hurry, or None when it stays as written (about 60% of rows)."""
    draw = rng.random()
    if draw < 0.12:
        return query.upper()
    if draw < 0.20:
        return re.sub(r"[^\w\s'-]", "", query.lower()).strip()
    if draw < 0.33:
        return with_typos(query, rng)
    if draw < 0.37:
        return with_typos(query, rng).upper()
    if draw < 0.42:
        return panicked(query, rng)
    return None


def rewrite(path, rng, excluded):
    fields, rows = read_rows(path)
    if not fields or "user_query" not in fields:
        sys.exit(f"error: {path}: expected a user_query column")
    changed = 0
    for row in rows:
        query = noisy(row["user_query"], rng)
        if query and query != row["user_query"] and dedup_key(query) not in excluded:
            row["user_query"] = query
            changed += 1
    write_rows(path, fields, rows)
    return changed, len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--exclude", action="append", default=[], help="a CSV whose user messages are never written")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    excluded = set()
    for path in args.exclude:
        excluded |= {dedup_key(row["user_query"]) for row in read_rows(path)[1]}
    for index, path in enumerate(args.files):
        rng = random.Random(f"maritime-noise-{args.seed}-{index}")
        changed, total = rewrite(path, rng, excluded)
        print(f"{path}: {changed} of {total} messages rewritten as typed in a hurry")


if __name__ == "__main__":
    main()
