#!/usr/bin/env python3
"""Turns core/data/phi/handwritten.txt (texts with {{TYPE|text}} marks, one per paragraph)
into core/data/phi/handwritten.jsonl for `aegis phi eval`."""

import json
import re
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "core" / "data" / "phi"
MARK = re.compile(r"\{\{([A-Z_]+)\|(.+?)\}\}")


def convert(paragraph):
    text, spans, at = "", [], 0
    for m in MARK.finditer(paragraph):
        text += paragraph[at:m.start()]
        spans.append({"start": len(text), "end": len(text) + len(m.group(2)), "type": m.group(1)})
        text += m.group(2)
        at = m.end()
    return {"text": text + paragraph[at:], "spans": spans}


def main():
    source = (DATA / "handwritten.txt").read_text()
    paragraphs = [p.strip() for p in source.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
    with open(DATA / "handwritten.jsonl", "w") as f:
        for p in paragraphs:
            f.write(json.dumps(convert(p), ensure_ascii=False) + "\n")
    print(f"{len(paragraphs)} texts")


if __name__ == "__main__":
    main()
