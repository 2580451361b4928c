//! Clinical text of known shape for measuring de-identification speed: the corpora of the
//! `phi` benchmark and of the `phi_passes` example (instruction counts under callgrind).

const NARRATIVE: &[&str] = &[
    "The patient reports progressive dyspnea on exertion over the past three weeks, now with two-pillow orthopnea.",
    "She denies chest pain, palpitations, syncope, fevers, chills, or recent travel.",
    "Home medications include metoprolol succinate 50 mg daily, furosemide 40 mg twice daily and atorvastatin 40 mg at bedtime.",
    "On examination, jugular venous pressure is elevated to 12 cm with bibasilar crackles and 2+ pitting edema to the knees.",
    "Vital signs: temperature 98.4 F, blood pressure 142/88 mmHg, heart rate 96, respiratory rate 20, SpO2 93% on room air.",
    "Laboratory studies show sodium 134, potassium 4.8, creatinine 1.6 (baseline 1.2), BNP 1,240 and troponin below the reference range.",
    "Chest radiograph demonstrates cardiomegaly with small bilateral pleural effusions and cephalization of the vessels.",
    "Echocardiogram from last year showed an ejection fraction of 35% with moderate mitral regurgitation.",
    "Assessment: acute on chronic heart failure with reduced ejection fraction, likely precipitated by dietary indiscretion.",
    "Plan: intravenous furosemide 40 mg twice daily, strict intake and output, daily weights, 2 g sodium diet and fluid restriction.",
    "Continue beta blocker; hold lisinopril given the rise in creatinine; recheck basic metabolic panel in the morning.",
    "Diabetes mellitus type 2: hemoglobin A1c 8.1%; continue metformin, start insulin glargine 10 units at bedtime with sliding scale.",
    "Chronic kidney disease stage 3a: avoid NSAIDs and nephrotoxins, renally dose medications.",
    "Anticoagulation: CHA2DS2-VASc score of 4; continue apixaban 5 mg twice daily.",
    "Deep vein thrombosis prophylaxis with heparin 5,000 units subcutaneously every 8 hours.",
    "Code status discussed with the patient and family: full code. Disposition pending clinical improvement.",
    "Review of systems is otherwise negative in twelve systems except as noted in the history above.",
    "Neurologic examination is nonfocal; cranial nerves II through XII intact, strength 5/5 throughout.",
    "Abdomen soft, nontender, nondistended, normal bowel sounds, no hepatosplenomegaly.",
    "Skin warm and dry without rashes; no pressure injuries noted on admission.",
];

/// History-and-physical note `i`, about 4 KB: identifiers in the header, the social history and
/// the signature (about one per 250 characters), narrative in between.
pub fn note(i: usize) -> String {
    let names = ["Maria Garcia", "James O'Connor", "Oluwaseun Adeyemi", "Li Wei Chen", "Rebecca Lindqvist"];
    let doctors = ["Halvorsen", "Okafor", "Patel", "Nguyen", "Whitfield"];
    let mut text = format!(
        "ADMISSION HISTORY AND PHYSICAL\nPatient: {}   DOB: {:02}/{:02}/19{:02}   MRN: {:08}\nDate of admission: {:02}/{:02}/2025\nAttending: Dr. {}\n\n",
        names[i % names.len()], i % 12 + 1, i % 28 + 1, 40 + i % 50, 10_000_000 + i * 7919, (i + 3) % 12 + 1, (i + 5) % 28 + 1,
        doctors[i % doctors.len()]
    );
    for k in 0..24 {
        text.push_str(NARRATIVE[(i + k * 7) % NARRATIVE.len()]);
        text.push(' ');
        if k == 11 {
            text.push_str(&format!(
                "\n\nSocial history: lives with her daughter at {} Maple Avenue, Springfield, IL 62704; daughter's phone (217) 555-{:04}.\n\n",
                100 + i, 100 + i % 9000
            ));
        }
    }
    text.push_str(&format!(
        "\n\nElectronically signed by Dr. {}, MD on {:02}/{:02}/2025.\n",
        doctors[(i + 1) % 5],
        i % 12 + 1,
        i % 28 + 1
    ));
    text
}

/// Lab and vitals lines `i`: all numbers and abbreviations, hardly any identifiers.
pub fn labs(i: usize) -> String {
    (0..40)
        .map(|k| {
            format!(
                "BP {}/{}, HR {}, SpO2 {}%, WBC {}.{}, Hgb 13.1, Plt {}, Na 139, K 4.{}, Cr 1.{}, glucose {} mg/dL.\n",
                110 + (i + k) % 40,
                60 + k % 30,
                60 + k % 40,
                90 + k % 10,
                4 + k % 9,
                k % 10,
                150 + k * 3,
                k % 9,
                k % 9,
                80 + k * 2
            )
        })
        .collect()
}

/// The benchmark's `notes` corpus: 200 notes, about 800 KB.
pub fn notes() -> Vec<String> {
    (0..200).map(note).collect()
}

/// The benchmark's `labs` corpus: 50 blocks of 40 lines.
pub fn lab_lines() -> Vec<String> {
    (0..50).map(labs).collect()
}
