#!/usr/bin/python3
# Writes train.csv, validation.csv and test.csv in the reference article's CSV format from the
# hand-written examples in examples.py: columns function_definitions, user_query, function_call (as in
# the article, every cell quoted, JSON inside), gps (the boat's position, a template variable for the
# system message) and response (the plain-text answer of a turn that needs no call).
# Run from this folder: python3 make_csv.py
import csv
import json
import random

import examples
from positions import random_position

with open("../functions.json", encoding="utf-8") as f:
    DEFINITIONS = json.dumps(json.load(f), ensure_ascii=False)


def calls(detail, emergency_type, gps):
    # POLICY.md: categorize first, then broadcast, in one turn; the position is copied verbatim.
    return [
        {"name": "categorize_emergency", "arguments": {"emergency_detail": detail}},
        {"name": "broadcast_emergency_message",
         "arguments": {"location": gps, "emergency_detail": detail, "emergency_type": emergency_type}},
    ]


def write(name, rows):
    with open(name, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(["function_definitions", "user_query", "function_call", "gps", "response"])
        for query, detail, label, gps in rows:
            if detail is None:
                writer.writerow([DEFINITIONS, query, "[]", gps, label])
            else:
                writer.writerow([DEFINITIONS, query, json.dumps(calls(detail, label, gps), ensure_ascii=False), gps, ""])


def with_positions(rows, split):
    # One position per row, seeded by the split's name: each split's positions are its own, so the
    # test split measures copying a position never seen in training, not recalling one.
    rng = random.Random(f"maritime-{split}")
    return [(query, detail, label, random_position(rng)) for query, detail, label in rows]


if __name__ == "__main__":
    write("train.csv", with_positions(examples.TRAIN, "train"))
    write("validation.csv", with_positions(examples.VALIDATION, "validation"))
    write("test.csv", with_positions(examples.TEST, "test"))
