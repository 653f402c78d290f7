"""Reading and rewriting the CSV files of `slmtune data synth` in place, shared by the corpus scripts
that reshape them (random_positions.py, noisy_queries.py) so both write the same quoting."""
import csv
import os


def read_rows(path):
    """The header's field names and every row as a dict."""
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def write_rows(path, fields, rows):
    """Replaces the file through a temporary one, so a failure leaves the old file whole."""
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(temporary, path)
