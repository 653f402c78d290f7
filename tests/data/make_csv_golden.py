#!/usr/bin/python3
# Writes csv_golden.json: CSV inputs and how Python's csv module (default "excel" dialect, the
# reference for the article's dataset files) parses them. Run from this folder:
#   python3 make_csv_golden.py
# Python yields [] for a blank line where our reader skips the line (as csv.DictReader does), so
# blank rows are dropped here; each record also records the 1-based line it starts on, from
# reader.line_num before and after the record.
import csv
import io
import json

CASES = [
    # RFC 4180 section 2, examples 1-7
    "aaa,bbb,ccc\r\nzzz,yyy,xxx\r\n",
    "aaa,bbb,ccc\r\nzzz,yyy,xxx",
    "field_name,field_name,field_name\r\naaa,bbb,ccc\r\nzzz,yyy,xxx\r\n",
    "aaa,bbb,ccc",
    '"aaa","bbb","ccc"\r\nzzz,yyy,xxx',
    '"aaa","b\r\nbb","ccc"\r\nzzz,yyy,xxx',
    '"aaa","b""bb","ccc"',
    # line ends and blank lines
    "a,b\nc,d\n",
    "a,b\rc,d\r",
    "a,b\n\nc,d\n\n\n",
    "x\n\"multi\nline\ncell\",y\nz,w\n",
    # empty cells
    ",\n,,\n\"\",\"\"\n",
    "a,\n",
    # quotes in odd places: Python keeps them literally / appends text after a closing quote
    'a"b,c\n',
    '"ab"cd,e\n',
    '"a""",b\n',
    '""""\n',
    # the article's format: JSON inside quoted cells
    'function_definitions,user_query,function_call\n"[{""name"": ""f""}]","hi, there","[]"\n',
    # UTF-8 is passed through unchanged
    'emergency_type\n"Securit\u00e9"\n',
    # spaces are data
    ' a , b \n',
]


def parse(text):
    reader = csv.reader(io.StringIO(text, newline=""))
    records = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        if row:
            records.append({"line": start, "cells": row})
    return records


def main():
    cases = [{"input": text, "records": parse(text)} for text in CASES]
    with open("csv_golden.json", "w", encoding="utf-8") as f:
        json.dump(cases, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
