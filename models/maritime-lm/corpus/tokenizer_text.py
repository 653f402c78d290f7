#!/usr/bin/env python3
"""Writes the chat transcripts of function-calling CSV files as ChatML text, laid out as
chat_template.jinja renders them, for one purpose only: the statistics `slmtune tokenizer train`
learns its merges from (so `{"name": "`, `emergency_detail` and the tool schemas become few tokens).
The pretraining itself renders the same CSV files through the real template (`slmtune pretrain --chat`).

    python3 tokenizer_text.py --system ../../../examples/maritime/system_prompt.txt synth*.csv --out chats.txt
"""
import argparse
import csv
import json


def dumps(value):
    # Jinja's tojson as Hugging Face configures it: ", " and ": " separators, non-ASCII kept.
    return json.dumps(value, ensure_ascii=False)


def render(row, system_template):
    system = system_template
    for key, value in row.items():
        system = system.replace("{{ " + key + " }}", value or "")
    tools = json.loads(row["function_definitions"])
    text = "<|im_start|>system\n" + system
    text += ('\n\n# Tools\nTo call a function, write <tool_call>\n{"name": <name>, "arguments": <arguments object>}'
             "\n</tool_call> for each call.\n<tools>")
    text += "".join("\n" + dumps(tool) for tool in tools) + "\n</tools><|im_end|>\n"
    text += "<|im_start|>user\n" + row["user_query"] + "<|im_end|>\n<|im_start|>assistant"
    calls = json.loads(row["function_call"]) if row["function_call"].strip() else []
    if not calls:
        text += "\n" + row.get("response", "")
    for call in calls:
        text += '\n<tool_call>\n{"name": "' + call["name"] + '", "arguments": ' + dumps(call["arguments"]) + "}\n</tool_call>"
    return text + "<|im_end|>\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--system", required=True, help="system message template ({{ gps }} filled per row)")
    parser.add_argument("--out", required=True)
    parser.add_argument("csv", nargs="+")
    args = parser.parse_args()
    system_template = open(args.system, encoding="utf-8").read().strip()
    with open(args.out, "w", encoding="utf-8") as out:
        for path in args.csv:
            with open(path, encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    out.write(render(row, system_template) + "<|endoftext|>\n")


if __name__ == "__main__":
    main()
