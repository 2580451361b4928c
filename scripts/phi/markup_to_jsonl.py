#!/usr/bin/env python3
"""Turns the hand-written evaluation texts (one per paragraph, identifiers marked
{{TYPE|text}}) into JSONL for `aegis phi eval`:
  core/data/phi/handwritten.txt -> handwritten.jsonl   (development set)
  core/data/phi/holdout.txt     -> holdout.jsonl       (first held-out set)
  core/data/phi/holdout2.txt    -> holdout2.jsonl      (second held-out set)"""

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
    for name in ["handwritten", "holdout", "holdout2"]:
        source = (DATA / f"{name}.txt").read_text()
        paragraphs = [p.strip() for p in source.split("\n\n") if p.strip() and not p.lstrip().startswith("#")]
        with open(DATA / f"{name}.jsonl", "w") as f:
            for p in paragraphs:
                f.write(json.dumps(convert(p), ensure_ascii=False) + "\n")
        print(f"{name}: {len(paragraphs)} texts")


if __name__ == "__main__":
    main()
