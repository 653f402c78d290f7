#!/usr/bin/env python3
"""Gives every conversation of `slmtune data synth` CSV files a GPS position of its own, drawn at
random (seeded) in the notations of examples/maritime/data/positions.py: the `gps` cell and every
`location` argument that copied it are rewritten together, so each row still follows POLICY.md.

Why: with a few hundred positions repeated across thousands of conversations, a small model learns
to recall the positions it saw; with a new position in every conversation, the only thing that pays
off is copying the one in the system message, which is what the assistant must do at sea.

    python3 random_positions.py --seed 1 --exclude ../../../examples/maritime/data/test.csv synth-1.csv

Files are rewritten in place (through a temporary file). Positions of the --exclude files are never
drawn, so the held-out splits' positions stay unseen.
"""
import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../../examples/maritime/data"))
from positions import random_position  # noqa: E402
from synth_csv import read_rows, write_rows  # noqa: E402


def positions_of(path):
    return {row["gps"] for row in read_rows(path)[1] if row.get("gps")}


def rewrite(path, rng, excluded):
    fields, rows = read_rows(path)
    if not fields or "gps" not in fields or "function_call" not in fields:
        sys.exit(f"error: {path}: expected the columns gps and function_call")
    for line, row in enumerate(rows, start=2):
        position = random_position(rng)
        while position in excluded:
            position = random_position(rng)
        calls = json.loads(row["function_call"]) if row["function_call"].strip() else []
        for call in calls:
            arguments = call.get("arguments", {})
            if "location" in arguments:
                if arguments["location"] != row["gps"]:
                    sys.exit(f"error: {path}:{line}: location {arguments['location']!r} is not the row's gps {row['gps']!r}")
                arguments["location"] = position
        row["gps"] = position
        row["function_call"] = json.dumps(calls, ensure_ascii=False) if calls else row["function_call"]
    write_rows(path, fields, rows)
    return len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--exclude", action="append", default=[], help="a CSV whose positions are never drawn")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    excluded = set()
    for path in args.exclude:
        excluded |= positions_of(path)
    for index, path in enumerate(args.files):
        rng = random.Random(f"maritime-corpus-{args.seed}-{index}")
        print(f"{path}: {rewrite(path, rng, excluded)} positions drawn")


if __name__ == "__main__":
    main()
