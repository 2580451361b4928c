#!/usr/bin/env python3
"""Learns safe words from the development slices of third-party labelled corpora.

Real clinical text is full of words no dictionary holds: nursing shorthand ("conts", "sxn'd",
"overnoc"), misspellings that recur ("recieved", "aggitation"), charting-system names
("carevue"), and, in other languages, the whole clinical vocabulary. A recall-first
de-identifier treats each as a possible name. This script keeps the ones that people outside
this project wrote often and almost never labelled as part of an identifier:

  - seen outside every labelled span in at least MIN_DOCUMENTS documents of at least
    MIN_PATIENTS different patients (one patient's own name, however often repeated, never
    qualifies; in corpora with one document per patient both counts are the same);
  - inside a labelled span in at most one document of every LABEL_RATIO where it was written
    outside one: the Spanish reports' form headers ("País: España", "Médico:", "Servicio:") stand
    in nearly every report and were labelled a handful of times, inside "País Vasco" or "Centro
    Médico Deportivo";
  - never, in any case, inside a labelled span of the committed development slices (Faker's
    names and places, which clinicians' notes say nothing about);
  - on none of our other lists but Philter's allow-list: names, places, drugs and everyday
    words keep the treatment those lists give them. Philter's words that clinicians were seen
    to write often ("trach", "afebrile") are learned too: on Philter's list alone a word is
    still a name candidate where a name could stand ("Afebrile, on ..." at a line's start).

It also writes core/data/phi/learned_homographs.txt: words on our name and place lists (and on no
everyday-word list) that the same people wrote just as often, and as (part of) an identifier in
at most one document of every LABEL_RATIO where they wrote it ("foley" the catheter, "levo"
for levophed, "fent" for fentanyl, Spanish "cuello", "plata"). Those keep their place on the
name lists but are treated like the names that are also everyday words ("Grace", "Will"): a
name only where its context says so ("Mr. Foley", "Foley, Ann"), not on their own.

Only development slices are read (`NAME.dev.jsonl` from `scripts/phi/corpora.py`'s cache
directory); holdout slices are never read, so that the figures on them stay first sight for
these words. The output, core/data/phi/learned_safe_words.txt, is a list of words, not text:
nothing of a note, and no identifier, is in it.

Run: python3 scripts/phi/learn_safe_words.py [--cache DIR]
"""

import argparse
import json
import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LISTS = ROOT / "core" / "data" / "phi"
OUT = LISTS / "learned_safe_words.txt"
HOMOGRAPHS = LISTS / "learned_homographs.txt"
CACHE = Path.home() / ".cache" / "aegis" / "phi-corpora"
MIN_DOCUMENTS = 3
MIN_PATIENTS = 3
# Documents where a word was written outside every identifier, for each where it was inside one,
# for the word to be learned.
LABEL_RATIO = 20

# Corpus → how to tell a document's patient from its id.
CORPORA = {
    # "p17n33": patient 17, note 33.
    "physionet-deid": lambda doc_id: doc_id.split("n")[0],
    # One case report per patient.
    "meddocan": lambda doc_id: doc_id,
}
# Lists whose words keep their own treatment.
OUR_LISTS = [
    "first_names", "last_names", "cities", "drug_names", "eponyms", "clinical_words",
    "ambiguous_words", "english_words",
]
# Lists of names and places; of everyday words (a word on both is already judged by context).
NAME_LISTS = ["first_names", "last_names", "cities"]
EVERYDAY_LISTS = ["ambiguous_words", "english_words", "drug_names", "eponyms", "clinical_words"]

WORD = re.compile(r"[^\W\d_][\w'’]*")


def lexicon_form(word: str) -> str:
    """The word as the Rust lexicon holds it (tokens::lower_core): no possessive, no apostrophes,
    lower case."""
    for suffix in ("'s", "’s", "'S"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    return word.replace("'", "").replace("’", "").lower()


def labelled_words(row: dict) -> set[str]:
    """The words inside the labelled spans of one document."""
    return {lexicon_form(w) for s in row["spans"] for w in WORD.findall(row["text"][s["start"]:s["end"]])}


def learn(path: Path, patient_of, labelled: Counter) -> dict[str, tuple[int, set[str]]]:
    counts: dict[str, tuple[int, set[str]]] = {}
    for line in path.open(encoding="utf-8"):
        row = json.loads(line)
        text, spans = row["text"], row["spans"]
        labelled.update(labelled_words(row))
        seen = set()
        for m in WORD.finditer(text):
            if not any(m.start() < s["end"] and s["start"] < m.end() for s in spans):
                seen.add(lexicon_form(m.group()))
        patient = patient_of(row["id"])
        for w in seen:
            docs, patients = counts.get(w, (0, set()))
            patients.add(patient)
            counts[w] = (docs + 1, patients)
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", type=Path, default=CACHE, help="where corpora.py wrote the dev slices")
    args = ap.parse_args()

    def read(names: list[str]) -> set[str]:
        words: set[str] = set()
        for name in names:
            words.update((LISTS / f"{name}.txt").read_text(encoding="utf-8").split("\n"))
        return words

    ours = read(OUR_LISTS)
    named = read(NAME_LISTS) - read(EVERYDAY_LISTS)
    # Documents of the clinical dev slices where each word was part of an identifier.
    labelled: Counter = Counter()
    documents: Counter = Counter()
    learned: set[str] = set()
    for corpus, patient_of in CORPORA.items():
        path = args.cache / f"{corpus}.dev.jsonl"
        if not path.exists():
            raise SystemExit(f"{path} is missing: build it with scripts/phi/corpora.py (see its --help)")
        counts = learn(path, patient_of, labelled)
        documents.update({w: docs for w, (docs, _) in counts.items()})
        kept = {w for w, (docs, patients) in counts.items() if docs >= MIN_DOCUMENTS and len(patients) >= MIN_PATIENTS}
        print(f"{corpus}: {len(kept)} words in {MIN_DOCUMENTS}+ documents of {MIN_PATIENTS}+ patients")
        learned |= kept
    learned = {w for w in learned if labelled[w] * LABEL_RATIO <= documents[w]}
    # The committed dev slices: a word labelled there is never learned as safe.
    committed: set[str] = set()
    for path in sorted((LISTS / "thirdparty").glob("*.dev.jsonl")):
        for line in path.open(encoding="utf-8"):
            committed |= labelled_words(json.loads(line))
    words = sorted(w for w in learned - committed - ours if len(w) >= 2)
    OUT.write_text("\n".join(words) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(words)} words")
    # A homograph stays a name in context, so it may have been a name now and then: "Foley" was
    # a surrogate surname twice in the nursing notes ("Dr. Foley", "Bernard Foley CRT") and the
    # catheter 500 times. Another corpus's labels (Faker's surnames) say nothing of how
    # clinicians use a word.
    homographs = sorted(w for w in learned & named if len(w) >= 2)
    HOMOGRAPHS.write_text("\n".join(homographs) + "\n", encoding="utf-8")
    print(f"{HOMOGRAPHS.relative_to(ROOT)}: {len(homographs)} words")


if __name__ == "__main__":
    main()
