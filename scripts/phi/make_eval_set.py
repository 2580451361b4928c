#!/usr/bin/env python3
"""Builds the labelled PHI evaluation set: core/data/phi/eval.jsonl.

Each line is {"text": ..., "spans": [{"start", "end", "type"}]} with offsets in Unicode code
points. Documents are clinical notes, discharge summaries, referral letters, patient chat,
billing and device messages, with realistic identifiers of every Safe Harbor type, and hard
negatives: drug names, eponymous diseases, doses and ratios that look like dates, lab values
that look like phone numbers, codes that look like identifiers.

Names are drawn from the census lists (with a frequency skew, as real patients are) and from
a list of names the census lists do not hold, so that recall on unseen names is measured too.
Deterministic: the same seed gives the same file.

Run: python3 scripts/phi/make_eval_set.py [--seed N] [--docs N]
"""

import argparse
import json
import random
import string
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "core" / "data" / "phi"

UNSEEN_NAMES = [
    ("Oluwaseun", "Adeyemi"), ("Siobhan", "O'Connell"), ("Giorgos", "Papadopoulos"), ("Aarav", "Mehta"),
    ("Xiomara", "Quispe"), ("Thandiwe", "Nkosi"), ("Bartosz", "Wisniewski"), ("Yerlan", "Abenov"),
    ("Ngozi", "Okonkwo"), ("Tadhg", "Mulcahy"), ("Ximena", "Huaman"), ("Kofi", "Asante"),
    ("Leilani", "Kahananui"), ("Dmitri", "Vasilenko"), ("Anahera", "Tipene"), ("Ifeoma", "Eze"),
    ("Rasmus", "Lindqvist"), ("Chidi", "Obi"), ("Saoirse", "Ni Bhriain"), ("Jiho", "Baek"),
    ("Priyanka", "Raghunathan"), ("Mateus", "Gonçalves"), ("Zoë", "Ñúñez"), ("Emeka", "Nwosu"),
]
STREETS = ["Larkspur", "Maple", "Oak", "Cedar", "Willow", "Harbor View", "Magnolia", "Chestnut", "Elm", "Lakeshore",
           "Old Mill", "Birch Hollow", "Sycamore", "Juniper", "Prospect", "Riverside", "Hawthorne", "Pinecrest"]
SUFFIXES = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Lane", "Ln", "Drive", "Dr", "Court", "Ct", "Boulevard",
            "Blvd", "Way", "Place", "Terrace", "Circle", "Parkway"]
STATES = ["MA", "NY", "CA", "TX", "IL", "OH", "PA", "GA", "NC", "WA", "AZ", "CO", "MN", "MO", "OR", "WI", "VA", "TN"]
COUNTIES = ["Suffolk", "Middlesex", "Cook", "Harris", "Maricopa", "King", "Travis", "Franklin", "Hamilton", "Dane"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
MON = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DRUGS = ["acetaminophen", "ibuprofen", "warfarin", "metformin", "lisinopril", "atorvastatin", "sertraline",
         "methotrexate", "amoxicillin", "prednisone", "furosemide", "Lasix", "Coumadin", "Eliquis", "Tylenol",
         "Zoloft", "levothyroxine", "gabapentin", "insulin glargine", "tramadol", "clarithromycin", "simvastatin"]
EPONYM_PHRASES = ["Parkinson's disease", "Alzheimer's dementia", "Hodgkin lymphoma", "Graves disease",
                  "Crohn's disease", "Cushing syndrome", "Addison's disease", "Bell's palsy", "Raynaud phenomenon",
                  "a negative Babinski sign", "Guillain-Barre syndrome", "Hashimoto thyroiditis",
                  "Wilson's disease", "Kawasaki disease", "Barrett's esophagus", "Down syndrome",
                  "non-Hodgkin lymphoma", "a positive Murphy's sign", "Tourette syndrome", "Lyme disease"]
SPECIALTIES = ["Cardiology", "Nephrology", "Oncology", "Neurology", "Primary Care", "Endocrinology", "Pulmonology"]


def load(name):
    return [l.strip() for l in (DATA / name).read_text().splitlines() if l.strip()]


class Doc:
    """Text built piece by piece, remembering where each identifier went."""

    def __init__(self):
        self.parts = []
        self.spans = []
        self.length = 0

    def t(self, text):
        self.parts.append(text)
        self.length += len(text)
        return self

    def phi(self, text, kind):
        self.spans.append({"start": self.length, "end": self.length + len(text), "type": kind})
        return self.t(text)

    def json(self):
        text = "".join(self.parts)
        for s in self.spans:
            assert text[s["start"]:s["end"]].strip() == text[s["start"]:s["end"]], s
        return {"text": text, "spans": self.spans}


class Gen:
    def __init__(self, seed):
        self.r = random.Random(seed)
        firsts = load("first_names.txt")
        lasts = load("last_names.txt")
        ambiguous = set(load("ambiguous_words.txt"))
        # Patients are mostly common names; skew towards the top of the lists.
        self.firsts = [n for n in firsts[:1500] if n not in ambiguous]
        self.lasts = [n for n in lasts[:20000] if n not in ambiguous]
        self.cities = [c for c in load("cities.txt") if c not in ambiguous and " " not in c or c.count(" ") == 1]

    def choice(self, xs):
        return self.r.choice(xs)

    def person(self):
        if self.r.random() < 0.2:
            return self.choice(UNSEEN_NAMES)
        cap = lambda s: "-".join(p.capitalize() for p in s.split("-"))
        return cap(self.choice(self.firsts)), cap(self.choice(self.lasts))

    def city(self):
        return " ".join("-".join(p.capitalize() for p in w.split("-")) for w in self.choice(self.cities).split(" "))

    def digits(self, n):
        return "".join(self.r.choice(string.digits) for _ in range(n))

    def date(self):
        y, m, d = self.r.randint(1930, 2026), self.r.randint(1, 12), self.r.randint(1, 28)
        return self.choice([
            f"{m:02d}/{d:02d}/{y}", f"{m}/{d}/{y}", f"{m}/{d}/{y % 100:02d}", f"{y}-{m:02d}-{d:02d}",
            f"{MONTHS[m - 1]} {d}, {y}", f"{MON[m - 1]} {d} {y}", f"{d} {MONTHS[m - 1]} {y}",
            f"{MONTHS[m - 1]} {d}th", f"{MONTHS[m - 1]} {y}", f"{d:02d}-{m:02d}-{y}",
        ])

    def phone(self):
        a, e, n = self.r.randint(201, 989), self.r.randint(200, 999), self.digits(4)
        return self.choice([f"({a}) {e}-{n}", f"{a}-{e}-{n}", f"{a}.{e}.{n}", f"+1 {a} {e} {n}", f"1-{a}-{e}-{n}"])

    def ssn(self):
        area = self.r.choice([x for x in range(1, 900) if x != 666])
        return f"{area:03d}-{self.r.randint(1, 99):02d}-{self.r.randint(1, 9999):04d}"

    def luhn_complete(self, prefix, length):
        body = prefix + self.digits(length - len(prefix) - 1)
        total = 0
        for i, ch in enumerate(reversed(body)):
            x = int(ch)
            if i % 2 == 0:
                x *= 2
                if x > 9:
                    x -= 9
            total += x
        return body + str((10 - total % 10) % 10)

    def card(self):
        n = self.luhn_complete(self.choice(["4", "51", "37", "6011"]), 16)
        return self.choice([n, " ".join(n[i:i + 4] for i in range(0, 16, 4)), "-".join(n[i:i + 4] for i in range(0, 16, 4))])

    def iban(self):
        bban = "WEST" + self.digits(14)
        digits = "".join(str(int(c, 36)) for c in bban + "GB00")
        check = 98 - int(digits) % 97
        raw = f"GB{check:02d}{bban}"
        return " ".join(raw[i:i + 4] for i in range(0, len(raw), 4))

    def npi(self):
        body = self.choice(["1", "2"]) + self.digits(8)
        full = self.luhn_complete("80840" + body, 15)
        return full[5:]

    def dea(self):
        d = [self.r.randint(0, 9) for _ in range(6)]
        check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
        return self.choice(["A", "B", "F", "M"]) + self.choice(string.ascii_uppercase) + "".join(map(str, d)) + str(check)

    def vin(self):
        allowed = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
        v = [self.r.choice(allowed) for _ in range(17)]
        v[0] = self.r.choice("123456789")
        weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]

        def value(c):
            if c.isdigit():
                return int(c)
            return {**{k: i + 1 for i, k in enumerate("ABCDEFGH")}, **{k: i + 1 for i, k in enumerate("JKLMN")},
                    "P": 7, **{k: i + 2 for i, k in enumerate("RSTUVWXYZ")}}[c]

        total = sum(value(c) * w for c, w in zip(v, weights))
        v[8] = "X" if total % 11 == 10 else str(total % 11)
        return "".join(v)

    def mbi(self):
        letters = "ACDEFGHJKMNPQRTUVWXY"
        return (self.choice("123456789") + self.choice(letters) + self.choice(letters + string.digits) + self.digits(1)
                + "-" + self.choice(letters) + self.choice(letters + string.digits) + self.digits(1) + "-"
                + self.choice(letters) + self.choice(letters) + self.digits(2))

    def email(self, first, last):
        user = self.choice([f"{first}.{last}", f"{first[0]}{last}", f"{last}{self.digits(2)}", f"{first}_{last[:3]}"])
        user = "".join(c for c in user.lower() if c.isalnum() or c in "._")
        return f"{user}@{self.choice(['gmail.com', 'yahoo.com', 'outlook.com', 'example.org', 'mail.example-health.net'])}"

    # ---- documents --------------------------------------------------------------------------

    def name_phi(self, doc, first, last, style=None):
        style = style or self.choice(["full", "full", "last_first", "initial", "title", "first_cue"])
        if style == "full":
            doc.phi(f"{first} {last}", "NAME")
        elif style == "last_first":
            doc.phi(f"{last}, {first}", "NAME")
        elif style == "initial":
            doc.phi(f"{first[0]}. {last}", "NAME")
        elif style == "title":
            doc.t(self.choice(["Mr. ", "Mrs. ", "Ms. "])).phi(last, "NAME")
        else:
            doc.t("patient ").phi(first, "NAME")
        return doc

    def address(self, doc):
        doc.phi(f"{self.r.randint(2, 9999)} {self.choice(STREETS)} {self.choice(SUFFIXES)}", "LOCATION")
        if self.r.random() < 0.3:
            doc.t(", ").phi(f"Apt {self.r.randint(1, 40)}{self.choice('ABCD')}", "LOCATION")
        doc.t(", ").phi(self.city(), "LOCATION").t(f", {self.choice(STATES)} ")
        zip_code = self.digits(5) + (f"-{self.digits(4)}" if self.r.random() < 0.3 else "")
        doc.phi(zip_code, "ZIP")
        return doc

    def clinical_note(self):
        d = Doc()
        first, last = self.person()
        d.t(self.choice(["HISTORY AND PHYSICAL\n", "Progress note\n", "ED Note\n", "Clinic visit\n"]))
        d.t("Patient: ")
        self.name_phi(d, first, last, self.choice(["full", "last_first"]))
        d.t("   DOB: ").phi(self.date(), "DATE")
        d.t("   MRN: ").phi(self.choice([self.digits(8), "A" + self.digits(7), self.digits(7)]), "MRN").t("\n")
        d.t("Date of service: ").phi(self.date(), "DATE").t("\n")
        age = self.r.randint(20, 104)
        d.t("HPI: ")
        if age > 89:
            d.phi(str(age), "AGE").t("-year-old ")
        else:
            d.t(f"{age}-year-old ")
        d.t(self.choice(["woman", "man", "patient"]))
        d.t(f" with a history of {self.choice(EPONYM_PHRASES)} and hypertension presents with {self.choice(['chest pain', 'dyspnea', 'a fall', 'fever and cough', 'worsening edema'])}. ")
        d.t(f"Takes {self.choice(DRUGS)} {self.choice(['5', '10', '20', '40', '500'])} mg {self.choice(['daily', 'BID', 'q6h', 'at bedtime'])} and {self.choice(DRUGS)}. ")
        d.t(f"BP {self.r.randint(100, 170)}/{self.r.randint(60, 99)}, HR {self.r.randint(55, 110)}, SpO2 {self.r.randint(90, 100)}%. ")
        d.t(f"Labs: WBC {self.r.randint(4, 15)}.{self.r.randint(0, 9)}, Hgb {self.r.randint(9, 16)}.{self.r.randint(0, 9)}, INR {self.r.randint(1, 3)}.{self.r.randint(0, 9)}, glucose {self.r.randint(70, 250)} mg/dL.\n")
        if self.r.random() < 0.5:
            kfirst, klast = self.person()
            d.t(f"Lives with her {self.choice(['daughter', 'son', 'husband', 'wife'])} ")
            self.name_phi(d, kfirst, klast, "full")
            d.t(" at ")
            self.address(d)
            d.t(". ")
        d.t("Contact: ").phi(self.phone(), "PHONE").t(". ")
        if self.r.random() < 0.5:
            d.t("Fax records to ").phi(self.phone(), "FAX").t(". ")
        d.t("\nAssessment and Plan: ")
        d.t(self.choice(["Continue current therapy.", "Will increase the dose of furosemide.", "May need a cardiology referral.", "Follow up in 2 weeks."]))
        dfirst, dlast = self.person()
        d.t("\nSigned by Dr. ").phi(dlast, "NAME").t(f", {self.choice(SPECIALTIES)}. NPI ").phi(self.npi(), "LICENSE").t("\n")
        return d

    def discharge(self):
        d = Doc()
        first, last = self.person()
        d.t("Discharge summary for ")
        self.name_phi(d, first, last)
        d.t(". Admitted ").phi(self.date(), "DATE").t(", discharged ").phi(self.date(), "DATE").t(". ")
        d.t(f"Diagnosis: {self.choice(['community-acquired pneumonia', 'CHF exacerbation', 'DKA', 'COPD exacerbation'])}. ")
        d.t(f"Discharge medications: {self.choice(DRUGS)} 1/2 tablet twice daily, Norco 5/325 mg every 6 hours as needed, {self.choice(DRUGS)} 20 mg. ")
        d.t("Follow-up on ").phi(f"{self.r.randint(1, 12)}/{self.r.randint(1, 28)}", "DATE").t(f" with {self.choice(SPECIALTIES)}. ")
        d.t("Insurance: Member ID ").phi(self.choice(string.ascii_uppercase) * 3 + self.digits(9), "HEALTH_PLAN")
        if self.r.random() < 0.5:
            d.t(", Medicare MBI ").phi(self.mbi(), "HEALTH_PLAN")
        d.t(". Emergency contact: ")
        cf, cl = self.person()
        self.name_phi(d, cf, cl, "full")
        d.t(", ").phi(self.phone(), "PHONE").t(".\n")
        if self.r.random() < 0.5:
            d.t(f"Pain 3/10 at discharge; walked 300-400 feet; eGFR 45; A1c 7.2%. ")
        return d

    def referral(self):
        d = Doc()
        pf, pl = self.person()
        df, dl = self.person()
        d.t("Dear Dr. ").phi(dl, "NAME").t(",\n\nI am referring ")
        self.name_phi(d, pf, pl, self.choice(["full", "title"]))
        d.t(" (DOB ").phi(self.date(), "DATE").t(", SSN ").phi(self.ssn(), "SSN").t(") ")
        d.t(f"for evaluation of {self.choice(EPONYM_PHRASES)}. ")
        d.t("The patient lives at ")
        self.address(d)
        d.t(" and can be reached at ").phi(self.email(pf, pl), "EMAIL").t(". ")
        d.t("Records are on the portal: ").phi(f"https://mychart.example-health.org/patients/{self.digits(6)}", "URL").t(". ")
        d.t(f"{self.choice(['Home health', 'The pharmacy', 'Her insurer'])} faxes to ").phi(self.phone(), "FAX").t(".\n")
        sf, sl = self.person()
        d.t("Sincerely,\n").phi(f"{sf} {sl}", "NAME").t(", MD\nDEA ").phi(self.dea(), "LICENSE").t("\n")
        return d

    def chat(self):
        d = Doc()
        pf, pl = self.person()
        opener = self.choice(["Hi, this is ", "Hello, my name is ", "Hi I'm "])
        d.t(opener).phi(f"{pf} {pl}", "NAME").t(". ")
        age = self.r.randint(90, 103)
        d.t(self.choice(["My mother is ", "My father is ", "I am "])).phi(str(age), "AGE").t(self.choice([" years old", " yo", " y/o"]))
        d.t(f" and takes {self.choice(DRUGS)}. Can she take {self.choice(DRUGS)} too? ")
        d.t("You can call me at ").phi(self.phone(), "PHONE").t(" or email ").phi(self.email(pf, pl), "EMAIL").t(". ")
        if self.r.random() < 0.5:
            d.t("My card on file is ").phi(self.card(), "ACCOUNT").t(". ")
        d.t("Here is a photo of the rash: ").phi(self.choice([
            f"https://uploads.example-chat.com/u/{self.digits(5)}/IMG_{self.digits(4)}.jpg",
            f"https://cdn.example.org/photos/{self.digits(6)}.png",
        ]), "PHOTO").t("\n")
        d.t(f"Assistant: Combining these can raise the risk of bleeding; acetaminophen up to 3 g/day is usually preferred. Please check with the prescriber.")
        return d

    def billing(self):
        d = Doc()
        pf, pl = self.person()
        d.t("Billing note for ")
        self.name_phi(d, pf, pl, "last_first")
        d.t(": account number ").phi(self.digits(10), "ACCOUNT").t(", refund to IBAN ").phi(self.iban(), "ACCOUNT").t(". ")
        d.t("Policy number ").phi(self.choice(string.ascii_uppercase) + self.digits(9), "HEALTH_PLAN").t(". ")
        d.t(f"CPT 99213, ICD-10 E11.9, NDC 0071-0155-23, {self.r.randint(2, 6)} units. ")
        d.t("Mail statements to ").phi(f"P.O. Box {self.r.randint(100, 99999)}", "LOCATION").t(", ")
        d.phi(self.city(), "LOCATION").t(f", {self.choice(STATES)} ").phi(self.digits(5), "ZIP").t(". ")
        d.t("Resident of ").phi(f"{self.choice(COUNTIES)} County", "LOCATION").t(".")
        return d

    def devices(self):
        d = Doc()
        pf, pl = self.person()
        d.t("Device check for ")
        self.name_phi(d, pf, pl)
        d.t(": pacemaker serial ").phi(f"{self.choice(['PJN', 'RNR', 'MDT'])}{self.digits(7)}", "DEVICE")
        d.t(", UDI ").phi(f"(01){self.digits(14)}(17){self.digits(6)}", "DEVICE")
        d.t(f". Lead impedance {self.r.randint(300, 900)} ohms, battery {self.r.randint(5, 11)} years. ")
        d.t("Remote monitor at IP ").phi(f"10.{self.r.randint(0, 255)}.{self.r.randint(0, 255)}.{self.r.randint(1, 254)}", "IP")
        if self.r.random() < 0.5:
            d.t(" and ").phi(f"2001:db8:{self.r.randint(1, 9999):x}::{self.r.randint(1, 65535):x}", "IP")
        d.t(". Transport: drove a car with VIN ").phi(self.vin(), "VEHICLE").t(", license plate ").phi(
            f"{self.r.randint(1, 9)}{''.join(self.r.choice(string.ascii_uppercase) for _ in range(3))}{self.digits(3)}", "VEHICLE")
        d.t(". Driver's license ").phi(f"{self.choice(string.ascii_uppercase)}{self.digits(3)}-{self.digits(4)}-{self.digits(4)}", "LICENSE").t(". ")
        d.t("Identity verified with fingerprint template ").phi(f"FP-{self.digits(6)}", "BIOMETRIC")
        d.t(self.choice([" and a ", "; "])).phi(self.choice(["retinal scan", "voiceprint", "iris scan"]), "BIOMETRIC").t(" on file. ")
        d.t("Photo ID: ").phi(f"https://records.example-health.org/id/{self.digits(5)}/face.jpeg", "PHOTO").t("\n")
        return d

    def negative(self):
        """No PHI at all: the traps."""
        d = Doc()
        parts = [
            f"Take {self.choice(DRUGS)} 500 mg every 6 hours, no more than 4 g per day.",
            f"BP {self.r.randint(100, 160)}/{self.r.randint(60, 95)} mmHg and HR {self.r.randint(50, 100)}.",
            "Norco 5/325 mg, 1/2 tablet at bedtime; pain 7/10.",
            f"History of {self.choice(EPONYM_PHRASES)}; {self.choice(EPONYM_PHRASES)} ruled out.",
            "Dr. Lasix is not a real doctor; Lasix is furosemide.",
            "Will continue metformin. May consider SGLT2 inhibitor. Grace period of 30 days for refills.",
            f"INR {self.r.randint(1, 4)}.{self.r.randint(0, 9)}, K {self.r.randint(3, 5)}.{self.r.randint(0, 9)}, creatinine 1.{self.r.randint(0, 9)}, glucose {self.r.randint(80, 300)}.",
            "Per the 2019 AHA/ACC guideline, statin therapy is indicated; see ICD-10 I10 and CPT 93000.",
            "Order 120 tablets, refill x2, NDC 0071-0155-23, lot 3X45B2, expires 2027.",
            "Phone visit completed; fax the prior authorization form to the insurer; call 911 for chest pain.",
            "Apgar 8/9; weight 3.2 kg; temp 98.6 F; SpO2 97%.",
            f"The agent bought 200 AAPL at 189.40 and sold 150 MSFT at 415.22; PnL +{self.r.randint(100, 999)}.{self.r.randint(10, 99)}.",
            "Model version 2.3.1 scored 0.94 AUROC on 1,204 cases.",
            "Stage 3 CKD with eGFR 45 mL/min/1.73m2; avoid NSAIDs such as ibuprofen and naproxen.",
            "Mobile phone notifications are enabled. Normal sinus rhythm. Reading glasses advised.",
            "Ask about Epic MyChart access and the Cardiology Clinic schedule.",
        ]
        self.r.shuffle(parts)
        d.t(" ".join(parts[: self.r.randint(3, 7)]))
        return d

    def doc(self):
        kind = self.r.random()
        if kind < 0.22:
            return self.clinical_note()
        if kind < 0.36:
            return self.discharge()
        if kind < 0.50:
            return self.referral()
        if kind < 0.64:
            return self.chat()
        if kind < 0.74:
            return self.billing()
        if kind < 0.84:
            return self.devices()
        return self.negative()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--docs", type=int, default=600)
    parser.add_argument("--out", default=str(DATA / "eval.jsonl"))
    args = parser.parse_args()
    gen = Gen(args.seed)
    with open(args.out, "w") as f:
        for _ in range(args.docs):
            f.write(json.dumps(gen.doc().json(), ensure_ascii=False) + "\n")
    counts = {}
    for line in open(args.out):
        for s in json.loads(line)["spans"]:
            counts[s["type"]] = counts.get(s["type"], 0) + 1
    print(args.out, dict(sorted(counts.items())))


if __name__ == "__main__":
    main()
