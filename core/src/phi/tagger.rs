//! A statistical token tagger for names and places: an averaged perceptron over each word and the
//! words around it (their shape, the word lists they are on, the words themselves, the
//! punctuation between them). The rules know the cues their authors imagined; the tagger weighs
//! context nobody wrote down. It runs after the rules and only adds what they left.
//!
//! It is trained in Rust (`aegis phi train-tagger`) on third-party generated text
//! (`core/data/phi/thirdparty/tagger-train.jsonl`, built by `scripts/phi/corpora.py` from half of
//! presidio-evaluator's templates), and the trained weights ship in `core/data/phi/tagger.bin`.
//! Training is deterministic: the same corpus gives the same file.

use std::sync::OnceLock;

use super::eval::LabelledText;
use super::lexicon::{lexicon, Flags, Lexicon};
use super::tokens::{is_title, lower_core, without_possessive, words, Word};
use super::{names, Detector, PhiType, Span};
use crate::FieldError;

const BUCKET_BITS: u32 = 17;
const BUCKETS: usize = 1 << BUCKET_BITS;
const LABELS: usize = 3;
const MAGIC: &[u8; 8] = b"AEGISTG1";

/// Epochs `aegis phi train-tagger` runs by default, and the shipped model was trained with.
pub const EPOCHS: usize = 10;

/// The shipped model, trained by `aegis phi train-tagger` on the corpus above.
const SHIPPED: &[u8] = include_bytes!("../../data/phi/tagger.bin");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Other = 0,
    Name = 1,
    Place = 2,
}

impl Label {
    const ALL: [Label; LABELS] = [Label::Other, Label::Name, Label::Place];
}

/// What a training word is labelled, or `None` for a word inside another kind of identifier
/// (an email's "john"): neither a name nor proof that such a word is not one.
type Gold = Option<Label>;

/// Trained weights: one row of label scores per feature bucket.
pub struct Tagger {
    weights: Vec<[f32; LABELS]>,
}

/// The shipped tagger, read once.
pub fn shipped() -> &'static Tagger {
    static TAGGER: OnceLock<Tagger> = OnceLock::new();
    // A corrupt file is a build defect a unit test catches; at run time the rules still work.
    TAGGER.get_or_init(|| Tagger::from_bytes(SHIPPED).unwrap_or_else(|_| Tagger::empty()))
}

/// What the tagger needs to know of one word, computed only for words near a candidate.
#[derive(Clone, Copy)]
struct Info {
    hash: u64,
    suffix: u64,
    shape: u64,
    flags: Flags,
    letters: usize,
}

/// Per-text state: word infos computed on demand.
struct Context<'a> {
    text: &'a str,
    words: &'a [Word],
    infos: Vec<Option<Info>>,
    /// Flags the name pass already looked up (`None` where it did not, and in training).
    known: &'a [Option<Flags>],
    lex: &'static Lexicon,
    lower: String,
    /// Whether each word sits in a sentence written without capitals.
    lower_sentence: Vec<bool>,
}

const NO_WORD: Info = Info { hash: 0x9e37_79b9_7f4a_7c15, suffix: 0, shape: 15, flags: Flags::NONE, letters: 0 };

impl<'a> Context<'a> {
    fn new(text: &'a str, words: &'a [Word], known: &'a [Option<Flags>]) -> Context<'a> {
        let mut lower_sentence = Vec::with_capacity(words.len());
        let mut current = false;
        for w in words {
            if w.sentence_start {
                current = !w.capitalized;
            }
            lower_sentence.push(current);
        }
        Context {
            text,
            words,
            infos: vec![None; words.len()],
            known,
            lex: lexicon(),
            lower: String::new(),
            lower_sentence,
        }
    }

    /// Word `i` as the lexicon holds it (see [`lower_core`]).
    fn lower(&mut self, i: usize) -> &str {
        let w = self.words[i];
        lower_core(&self.text[w.start..w.end], &mut self.lower);
        &self.lower
    }

    fn info(&mut self, i: Option<usize>) -> Info {
        let Some(i) = i.filter(|&i| i < self.words.len()) else { return NO_WORD };
        if let Some(info) = self.infos[i] {
            return info;
        }
        let w = self.words[i];
        let hash = self.lower(i).chars().fold(0u64, |h, c| mix(h, c as u64));
        let letters = self.lower.chars().count();
        let core = &self.text[w.start..w.end];
        let suffix = self.lower.chars().rev().take(3).fold(7u64, |h, c| mix(h, c as u64));
        let upper = core.chars().filter(|c| c.is_uppercase()).count();
        let shape = if w.initial {
            4
        } else if w.all_caps {
            2
        } else if !w.capitalized {
            0
        } else if upper == 1 {
            1
        } else {
            3
        } | if w.sentence_start { 8 } else { 0 };
        let flags = match self.known.get(i).copied().flatten() {
            Some(f) => f,
            None => self.lex.flags(&self.lower),
        };
        let info = Info { hash, suffix, shape, flags, letters };
        self.infos[i] = Some(info);
        info
    }

    /// Words the tagger judges: capitalised words that are not acronyms, titles, everyday,
    /// clinical or other safe words, or eponyms in use ("Gleason score"), unless a name or place
    /// list also holds them ("Grace", "Will"); in a sentence written without capitals, the same
    /// words in lower case, where no capital can point at a name ("risma flew to lith"). The
    /// rest are `Other`, most without a look-up.
    fn candidate(&mut self, i: usize) -> Option<Info> {
        let w = self.words[i];
        if !(w.capitalized || self.lower_sentence[i]) || w.all_caps || w.end - w.start < 2 {
            return None;
        }
        let written = &self.text[w.start..w.end];
        // One look-up (often the name pass's) decides most words; the rest of the checks and
        // the features are only for the few left.
        let lex = self.lex;
        let f = match self.known.get(i).copied().flatten() {
            Some(f) => f,
            None if written.bytes().all(|b| b.is_ascii_lowercase()) => lex.flags(written),
            None => lex.flags(self.lower(i)),
        };
        // Everyday words ("Stage", "Black") are the rules' to judge, with their cues, and so are
        // Philter's safe words, even those also census surnames ("Sternal"); first names that are
        // also words ("Grace", "Hazel", "Derrick") are judged by their context inside a sentence.
        let first_name = f.has(Flags::FIRST_NAME) && w.capitalized && !w.sentence_start;
        let everyday = f.has(Flags::ENGLISH)
            || (f.has(Flags::AMBIGUOUS) && !first_name)
            || (f.has(Flags::SAFE) && !f.has(Flags::FIRST_NAME));
        if everyday {
            return None;
        }
        // "Well-appearing", "Status-post": a double-barrelled name capitalises both parts.
        if is_title(written) || written.split('-').skip(1).any(|p| p.starts_with(char::is_lowercase)) {
            return None;
        }
        // Acronyms and measures in mixed case: "SpO2", "HFrEF", "HbA1c".
        let uppers = written.chars().filter(|c| c.is_uppercase()).count();
        if uppers >= 3
            || written.ends_with(char::is_uppercase) && uppers >= 2
            || self.text.as_bytes().get(w.end).is_some_and(u8::is_ascii_digit)
            || self.lower(i).chars().nth(1).is_none()
        {
            return None;
        }
        // "African-American", "Guillain-Barre": judged by their parts too.
        let safe = Flags::ENGLISH | Flags::SAFE | Flags::NEVER_NAME | Flags::DRUG | Flags::CLINICAL | Flags::EPONYM;
        if written.contains('-') && self.lower.split('-').any(|part| lex.flags(part).has(safe)) {
            return None;
        }
        let next = self.words.get(i + 1).map(|n| &self.text[n.start..n.end]);
        if names::not_a_person(f, &self.lower, next) {
            return None;
        }
        Some(self.info(Some(i)))
    }

    /// A word no list holds, in a sentence written without capitals, that reads as a
    /// misspelling ([`Lexicon::misspelling`]): nursing notes misspell ("tolerting",
    /// "patientintubated") far more often than they name someone so. A capitalised word is left
    /// to the tagger even first in a sentence: after "Nombre:", "Demetrio" is a name, not
    /// "demetrius" misspelt.
    fn misspelt(&mut self, i: usize, info: Info) -> bool {
        let w = self.words[i];
        let names = Flags::FIRST_NAME | Flags::LAST_NAME | Flags::CITY;
        if w.capitalized || info.flags.has(names) {
            return false;
        }
        let lex = self.lex;
        lex.misspelling(self.lower(i))
    }

    /// The punctuation between two words, as a small class.
    fn gap(&self, from: Option<usize>, to: Option<usize>) -> u64 {
        let (start, end) = match (from, to) {
            (Some(a), Some(b)) if b < self.words.len() => (self.words[a].end, self.words[b].start),
            _ => return 0,
        };
        let gap = &self.text[start..end];
        if gap.contains('\n') {
            return 1;
        }
        match gap.trim_start().bytes().next() {
            None if gap.is_empty() => 2,
            None => 3,
            Some(b',') => 4,
            Some(b'.') => 5,
            Some(b':') => 6,
            Some(b'(' | b')') => 7,
            Some(b'0'..=b'9') => 8,
            Some(b'@') => 9,
            Some(b'"' | b'\'') => 10,
            Some(_) => 11,
        }
    }

    /// The buckets of word `i`'s features that do not depend on the labels before it.
    fn features(&mut self, i: usize, w0: Info, out: &mut [usize; STATIC_FEATURES]) {
        let prev = i.checked_sub(1);
        let prev2 = i.checked_sub(2);
        let (p1, p2, n1, n2) = (self.info(prev), self.info(prev2), self.info(Some(i + 1)), self.info(Some(i + 2)));
        let (before, after) = (self.gap(prev, Some(i)), self.gap(Some(i), Some(i + 1)));
        let flags = |info: Info| info.flags.bits() as u64;
        let values = [
            0,
            w0.hash,
            w0.suffix,
            w0.shape,
            flags(w0),
            flags(w0) << 8 | w0.shape,
            p1.hash,
            n1.hash,
            p2.hash,
            n2.hash,
            p1.shape << 16 | flags(p1),
            n1.shape << 16 | flags(n1),
            before,
            after,
            mix(p1.hash, w0.shape),
            w0.letters.min(12) as u64,
            before << 8 | w0.shape,
            mix(n1.hash, w0.shape),
        ];
        for (k, v) in values.into_iter().enumerate() {
            out[k] = bucket(k as u64, v);
        }
    }
}

const STATIC_FEATURES: usize = 18;
const FEATURES: usize = STATIC_FEATURES + 3;

fn label_features(fixed: &[usize; STATIC_FEATURES], shape: u64, prev: Label, prev2: Label) -> [usize; FEATURES] {
    let mut all = [0usize; FEATURES];
    all[..STATIC_FEATURES].copy_from_slice(fixed);
    let (p, q) = (prev as u64, prev2 as u64);
    all[STATIC_FEATURES] = bucket(100, p);
    all[STATIC_FEATURES + 1] = bucket(101, p << 8 | shape);
    all[STATIC_FEATURES + 2] = bucket(102, p << 8 | q);
    all
}

/// The label with the highest score over `features`. Recall comes from which words are judged
/// (see `Context::candidate`), not from a bias: on the development sets, raising names' and
/// places' scores by a margin added only false alarms.
fn best(weights: &[[f32; LABELS]], features: &[usize; FEATURES]) -> Label {
    let mut scores = [0f32; LABELS];
    for &f in features {
        for (score, w) in scores.iter_mut().zip(weights[f]) {
            *score += w;
        }
    }
    let mut top = Label::Other;
    for l in Label::ALL {
        if scores[l as usize] > scores[top as usize] {
            top = l;
        }
    }
    top
}

fn mix(h: u64, x: u64) -> u64 {
    (h.rotate_left(5) ^ x).wrapping_mul(0x517c_c1b7_2722_0a95)
}

fn bucket(template: u64, value: u64) -> usize {
    // splitmix64's finaliser: Fx alone leaves the low bits of small values poorly spread.
    let mut z = mix(mix(0, template), value);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    ((z ^ (z >> 31)) >> (64 - BUCKET_BITS)) as usize
}

impl Tagger {
    fn empty() -> Tagger {
        Tagger { weights: vec![[0.0; LABELS]; BUCKETS] }
    }

    fn best(&self, features: &[usize; FEATURES]) -> Label {
        best(&self.weights, features)
    }

    /// Labels every word of `text` (`Other` for words it does not judge), greedily, left to right.
    fn tag(&self, cx: &mut Context) -> Vec<Label> {
        let mut labels = Vec::with_capacity(cx.words.len());
        let mut fixed = [0usize; STATIC_FEATURES];
        let (mut prev, mut prev2) = (Label::Other, Label::Other);
        for i in 0..cx.words.len() {
            let label = match cx.candidate(i) {
                Some(info) => {
                    cx.features(i, info, &mut fixed);
                    match self.best(&label_features(&fixed, info.shape, prev, prev2)) {
                        Label::Other => Label::Other,
                        _ if cx.misspelt(i, info) => Label::Other,
                        label => label,
                    }
                }
                None => Label::Other,
            };
            labels.push(label);
            (prev2, prev) = (prev, label);
        }
        labels
    }

    /// The file form: magic, bucket bits, then every non-zero row as (bucket, scores), little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let rows: Vec<(usize, &[f32; LABELS])> =
            self.weights.iter().enumerate().filter(|(_, r)| r.iter().any(|w| *w != 0.0)).collect();
        let mut out = Vec::with_capacity(16 + rows.len() * (4 + 4 * LABELS));
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&BUCKET_BITS.to_le_bytes());
        out.extend_from_slice(&(rows.len() as u32).to_le_bytes());
        for (b, row) in rows {
            out.extend_from_slice(&(b as u32).to_le_bytes());
            for w in row {
                out.extend_from_slice(&w.to_le_bytes());
            }
        }
        out
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Tagger, FieldError> {
        let bad = |why: &str| FieldError::new("tagger", why.to_string());
        let u32_at = |at: usize| -> Result<u32, FieldError> {
            let b = bytes.get(at..at + 4).ok_or_else(|| bad("the file is cut short"))?;
            Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        };
        if bytes.get(..8) != Some(MAGIC.as_slice()) {
            return Err(bad("not a tagger file"));
        }
        if u32_at(8)? != BUCKET_BITS {
            return Err(bad("trained for another feature table size"));
        }
        let rows = u32_at(12)? as usize;
        let row_size = 4 + 4 * LABELS;
        if bytes.len() != 16 + rows * row_size {
            return Err(bad("the file's length does not match its row count"));
        }
        let mut tagger = Tagger::empty();
        for r in 0..rows {
            let at = 16 + r * row_size;
            let b = u32_at(at)? as usize;
            let row = tagger.weights.get_mut(b).ok_or_else(|| bad("a bucket is out of range"))?;
            for (l, w) in row.iter_mut().enumerate() {
                *w = f32::from_bits(u32_at(at + 4 + 4 * l)?);
            }
        }
        Ok(tagger)
    }
}

/// Adds the names and places the tagger finds among words the rules left (`taken[i]` false).
/// `known` holds the lexicon flags the name pass looked up, by word (see `names::scan_words`).
pub fn scan(text: &str, words: &[Word], taken: &[bool], known: &[Option<Flags>], out: &mut Vec<Span>) {
    scan_with(shipped(), text, words, taken, known, out);
}

fn scan_with(
    tagger: &Tagger,
    text: &str,
    words: &[Word],
    taken: &[bool],
    known: &[Option<Flags>],
    out: &mut Vec<Span>,
) {
    if words.is_empty() {
        return;
    }
    let mut cx = Context::new(text, words, known);
    let labels = tagger.tag(&mut cx);
    let mut i = 0;
    while i < words.len() {
        if labels[i] == Label::Other || taken[i] {
            i += 1;
            continue;
        }
        let mut last = i;
        while last + 1 < words.len()
            && labels[last + 1] == labels[i]
            && !taken[last + 1]
            && text[words[last].end..words[last + 1].start].chars().all(|c| c == ' ' || c == '.')
            && words[last + 1].start - words[last].end <= 2
        {
            last += 1;
        }
        let phi_type = if labels[i] == Label::Name { PhiType::Name } else { PhiType::Location };
        // "Oluwaseun's": the name without the possessive.
        let end = words[last].start + without_possessive(&text[words[last].start..words[last].end]).len();
        out.push(Span::new(words[i].start, end, phi_type, 0.5, Detector::Tagger));
        i = last + 1;
    }
}

/// Trains a tagger on labelled texts: `Name` words from NAME spans, `Place` words from LOCATION
/// spans, words in other identifiers left out. Deterministic for a given corpus and `epochs`.
pub fn train(texts: &[LabelledText], epochs: usize) -> Tagger {
    let docs: Vec<(String, Vec<Word>, Vec<Gold>)> = texts.iter().map(gold_words).collect();
    let mut weights = vec![[0f32; LABELS]; BUCKETS];
    let mut totals = vec![[0f64; LABELS]; BUCKETS];
    let mut stamps = vec![[0u64; LABELS]; BUCKETS];
    let mut now = 0u64;
    let mut order: Vec<usize> = (0..docs.len()).collect();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut update = |weights: &mut Vec<[f32; LABELS]>, now: u64, f: usize, l: usize, delta: f32| {
        totals[f][l] += (now - stamps[f][l]) as f64 * weights[f][l] as f64;
        stamps[f][l] = now;
        weights[f][l] += delta;
    };
    for _ in 0..epochs {
        // Fisher-Yates with xorshift: the same order on every machine.
        for k in (1..order.len()).rev() {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            order.swap(k, (seed % (k as u64 + 1)) as usize);
        }
        for &d in &order {
            let (text, words, gold) = &docs[d];
            let mut cx = Context::new(text, words, &[]);
            let mut fixed = [0usize; STATIC_FEATURES];
            let (mut prev, mut prev2) = (Label::Other, Label::Other);
            let mut updates: Vec<([usize; FEATURES], Label, Label)> = Vec::new();
            for (i, truth) in gold.iter().enumerate() {
                let label = match cx.candidate(i) {
                    Some(info) => {
                        cx.features(i, info, &mut fixed);
                        let features = label_features(&fixed, info.shape, prev, prev2);
                        let guess = best(&weights, &features);
                        if let Some(truth) = *truth {
                            if guess != truth {
                                updates.push((features, truth, guess));
                            }
                        }
                        guess
                    }
                    None => Label::Other,
                };
                (prev2, prev) = (prev, label);
            }
            // One instance per text: updates apply after it is tagged, as in a per-sentence
            // perceptron, so a text's later words see the weights its earlier words saw.
            now += 1;
            for (features, truth, guess) in updates {
                for f in features {
                    update(&mut weights, now, f, truth as usize, 1.0);
                    update(&mut weights, now, f, guess as usize, -1.0);
                }
            }
        }
    }
    let now = now.max(1);
    let mut averaged = vec![[0f32; LABELS]; BUCKETS];
    for f in 0..BUCKETS {
        for l in 0..LABELS {
            let total = totals[f][l] + (now - stamps[f][l]) as f64 * weights[f][l] as f64;
            averaged[f][l] = (total / now as f64) as f32;
        }
    }
    Tagger { weights: averaged }
}

/// A labelled text's words and their labels.
fn gold_words(doc: &LabelledText) -> (String, Vec<Word>, Vec<Gold>) {
    let text = doc.text.clone();
    // Code points to bytes.
    let mut bytes: Vec<usize> = text.char_indices().map(|(b, _)| b).collect();
    bytes.push(text.len());
    let spans: Vec<(usize, usize, PhiType)> = doc
        .spans
        .iter()
        .map(|s| (bytes[s.start.min(bytes.len() - 1)], bytes[s.end.min(bytes.len() - 1)], s.phi_type))
        .collect();
    let words = words(&text);
    let gold = words
        .iter()
        .map(|w| match spans.iter().find(|(a, b, _)| *a < w.end && w.start < *b) {
            Some((_, _, PhiType::Name)) => Some(Label::Name),
            Some((_, _, PhiType::Location)) => Some(Label::Place),
            Some(_) => None,
            None => Some(Label::Other),
        })
        .collect();
    (text, words, gold)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phi::eval::parse_jsonl;

    fn found(tagger: &Tagger, text: &str) -> Vec<String> {
        let w = words(text);
        let mut out = Vec::new();
        scan_with(tagger, text, &w, &vec![false; w.len()], &[], &mut out);
        out.iter().map(|s| format!("{}:{}", s.phi_type.as_str(), &text[s.start..s.end])).collect()
    }

    #[test]
    fn the_shipped_file_is_what_the_committed_corpus_trains() {
        let corpus = include_str!("../../data/phi/thirdparty/tagger-train.jsonl");
        let texts = parse_jsonl(corpus).expect("the training corpus parses");
        let trained = train(&texts, EPOCHS);
        assert!(trained.to_bytes() == SHIPPED, "the lexicons, the features or the corpus changed: retrain with `aegis phi train-tagger --corpus core/data/phi/thirdparty/tagger-train.jsonl -o core/data/phi/tagger.bin`");
        assert!(Tagger::from_bytes(SHIPPED).is_ok());
    }

    #[test]
    fn reads_back_what_it_writes_and_refuses_other_files() {
        let t = shipped();
        let again = Tagger::from_bytes(&t.to_bytes()).expect("round trip");
        assert!(again.weights == t.weights);
        assert!(Tagger::from_bytes(b"not a model").is_err());
        let mut cut = t.to_bytes();
        cut.truncate(cut.len() - 3);
        assert!(Tagger::from_bytes(&cut).is_err());
    }

    #[test]
    fn names_and_places_in_contexts_no_rule_lists() {
        let t = shipped();
        let names = found(t, "Yesterday Oluwaseun brought the forms back to the front desk.");
        assert!(names.contains(&"NAME:Oluwaseun".to_string()), "{names:?}");
        assert!(found(t, "Take the metformin with food and check your sugar.").is_empty());
    }

    #[test]
    fn misspellings_are_no_names_where_capitals_prove_nothing() {
        let text =
            "pt tolerting tube feeds. Seadation held. Seen by Tolbert. Nombre: Demetrio. pt patientintubated in ew.";
        let w = words(text);
        let mut cx = Context::new(text, &w, &[]);
        let at = |word: &str| w.iter().position(|x| &text[x.start..x.end] == word).unwrap();
        let cases = [
            ("tolerting", true),
            ("patientintubated", true),
            ("Seadation", false),
            ("Tolbert", false),
            ("Demetrio", false),
        ];
        for (word, misspelt) in cases {
            let info = cx.info(Some(at(word)));
            assert_eq!(cx.misspelt(at(word), info), misspelt, "{word}");
        }
    }
}
