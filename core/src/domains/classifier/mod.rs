//! Tier 2: a per-domain logistic regression over hashed n-grams (trained with linfa), giving the
//! probability that an answer is unsafe.
//!
//! Training fits the model on 80% of the labels and measures it on the other 20%, so the
//! metrics stored with a model describe that very model. Scoring needs no linfa: it is a
//! sparse dot product, a few microseconds per trace.

pub mod features;

use std::path::Path;

use chrono::{DateTime, Utc};
use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use self::features::{featurize, trace_text, Features};
use crate::domains::files::PackPath;
use crate::model::Trace;
use crate::{Error, Result};

/// A trained Tier 2 model, as stored in a pack (`model.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassifierModel {
    pub domain: String,
    /// `YYYYMMDDThhmmss` of training: tells versions apart.
    pub version: String,
    pub trained_at: DateTime<Utc>,
    pub buckets: u32,
    pub intercept: f32,
    pub weights: Vec<f32>,
    pub metrics: ModelMetrics,
}

/// How the model did on the labels it was not trained on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelMetrics {
    pub training_size: usize,
    pub held_out_size: usize,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    /// Mean squared error of the probabilities: lower is better calibrated.
    pub brier: f64,
    /// Expected calibration error over ten probability bins.
    pub ece: f64,
    pub training_seconds: f64,
}

/// Knobs of training; the defaults suit a few hundred to tens of thousands of labels.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub buckets: u32,
    /// L2 regularisation strength.
    pub alpha: f32,
    pub max_iterations: u64,
    pub held_out_fraction: f64,
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { buckets: 4096, alpha: 0.05, max_iterations: 300, held_out_fraction: 0.2, seed: 42 }
    }
}

/// Where training is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stage {
    Featurizing { done: usize, total: usize },
    Fitting,
    Measuring,
}

impl ClassifierModel {
    /// What the model registry keeps of this model.
    pub fn registration(&self) -> crate::Result<crate::store::NewModel> {
        Ok(crate::store::NewModel {
            domain: self.domain.clone(),
            version: self.version.clone(),
            metrics: serde_json::to_value(&self.metrics)?,
            body: serde_json::to_string(self)?,
        })
    }

    /// A model from the weights the registry kept (see [`ClassifierModel::registration`]).
    pub fn from_registry(id: &str, body: &str) -> crate::Result<ClassifierModel> {
        serde_json::from_str(body).map_err(|e| crate::Error::Internal(format!("corrupt model row {id}: {e}")))
    }

    /// The probability that `trace` is unsafe, given the codes of Tier 1's findings.
    pub fn risk(&self, trace: &Trace, tier1: &[&str]) -> f64 {
        self.risk_of(&featurize(&trace_text(trace, tier1), self.buckets))
    }

    /// The probability that an answer with these features is unsafe.
    pub fn risk_of(&self, x: &Features) -> f64 {
        let z: f32 = self.intercept + x.iter().map(|(b, w)| self.weights[*b as usize] * w).sum::<f32>();
        1.0 / (1.0 + (-z as f64).exp())
    }

    pub fn load(path: &PackPath) -> Result<ClassifierModel> {
        let text = path.read_to_string().map_err(|e| Error::Pack {
            path: path.to_string(),
            line: None,
            message: format!("cannot read the Tier 2 model ({e}); train one with `aegis train`"),
        })?;
        let model: ClassifierModel = serde_json::from_str(&text).map_err(|e| Error::Pack {
            path: path.to_string(),
            line: Some(e.line()),
            message: format!("not a Tier 2 model: {e}"),
        })?;
        if model.weights.len() != model.buckets as usize || model.buckets == 0 {
            return Err(Error::Pack {
                path: path.to_string(),
                line: None,
                message: format!("{} weights for {} buckets", model.weights.len(), model.buckets),
            });
        }
        Ok(model)
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        // Written beside and renamed, so a running process never reads half a model.
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, serde_json::to_vec(self)?)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    }
}

/// A labelled trace with what Tier 1 found in it.
pub struct Example<'a> {
    pub trace: &'a Trace,
    pub tier1: Vec<String>,
    pub unsafe_: bool,
}

/// Fits a model to labelled traces.
pub fn train(
    domain: &str,
    cases: &[Example<'_>],
    options: &TrainOptions,
    progress: impl FnMut(Stage),
) -> Result<ClassifierModel> {
    train_with_held_out(domain, cases, options, progress).map(|(model, _)| model)
}

/// [`train`], also returning which cases were held out, so that another model can be measured
/// on the very same ones.
pub fn train_with_held_out(
    domain: &str,
    cases: &[Example<'_>],
    options: &TrainOptions,
    mut progress: impl FnMut(Stage),
) -> Result<(ClassifierModel, Vec<usize>)> {
    let started = std::time::Instant::now();
    let positives = cases.iter().filter(|c| c.unsafe_).count();
    if positives < 2 || cases.len() - positives < 2 {
        return Err(Error::Invalid(crate::FieldError::new(
            "label",
            "training needs at least two safe and two unsafe examples",
        )));
    }
    let mut features = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        let codes: Vec<&str> = case.tier1.iter().map(String::as_str).collect();
        features.push(featurize(&trace_text(case.trace, &codes), options.buckets));
        if i % 256 == 0 || i + 1 == cases.len() {
            progress(Stage::Featurizing { done: i + 1, total: cases.len() });
        }
    }
    // A stratified split: the same share of unsafe cases on both sides.
    let mut rng = rand::rngs::StdRng::seed_from_u64(options.seed);
    let (mut pos, mut neg): (Vec<usize>, Vec<usize>) = (0..cases.len()).partition(|&i| cases[i].unsafe_);
    pos.shuffle(&mut rng);
    neg.shuffle(&mut rng);
    let cut = |v: &Vec<usize>| ((v.len() as f64 * options.held_out_fraction).round() as usize).clamp(1, v.len() - 1);
    let (pos_cut, neg_cut) = (cut(&pos), cut(&neg));
    let held_out: Vec<usize> = pos[..pos_cut].iter().chain(&neg[..neg_cut]).copied().collect();
    let training: Vec<usize> = pos[pos_cut..].iter().chain(&neg[neg_cut..]).copied().collect();

    progress(Stage::Fitting);
    let rows: Vec<&Features> = training.iter().map(|&i| &features[i]).collect();
    let labels: Vec<bool> = training.iter().map(|&i| cases[i].unsafe_).collect();
    let mut model = fit(domain, &rows, &labels, options)?;

    progress(Stage::Measuring);
    let scored: Vec<(f64, bool)> = held_out.iter().map(|&i| (model.risk_of(&features[i]), cases[i].unsafe_)).collect();
    model.metrics = measure(&scored);
    model.metrics.training_size = training.len();
    model.metrics.held_out_size = held_out.len();
    model.metrics.training_seconds = started.elapsed().as_secs_f64();
    Ok((model, held_out))
}

/// Fits a model to exactly these featurized rows and labels (no held-out split; its metrics
/// are left empty).
pub fn fit(domain: &str, rows: &[&Features], labels: &[bool], options: &TrainOptions) -> Result<ClassifierModel> {
    let mut records = Array2::<f32>::zeros((rows.len(), options.buckets as usize));
    for (row, features) in rows.iter().enumerate() {
        for &(b, w) in features.iter() {
            records[[row, b as usize]] = w;
        }
    }
    let targets: Array1<bool> = labels.iter().copied().collect();
    let fitted = LogisticRegression::default()
        .alpha(options.alpha)
        .max_iterations(options.max_iterations)
        .fit(&Dataset::new(records, targets))
        .map_err(|e| Error::Internal(format!("training did not converge: {e}")))?;
    Ok(ClassifierModel {
        domain: domain.to_string(),
        version: Utc::now().format("%Y%m%dT%H%M%S").to_string(),
        trained_at: Utc::now(),
        buckets: options.buckets,
        intercept: fitted.intercept(),
        weights: fitted.params().to_vec(),
        metrics: ModelMetrics::default(),
    })
}

/// Accuracy, precision, recall (at 0.5) and calibration of probabilities against labels.
pub fn measure(scored: &[(f64, bool)]) -> ModelMetrics {
    let n = scored.len().max(1) as f64;
    let tp = scored.iter().filter(|(p, y)| *p >= 0.5 && *y).count() as f64;
    let fp = scored.iter().filter(|(p, y)| *p >= 0.5 && !*y).count() as f64;
    let fn_ = scored.iter().filter(|(p, y)| *p < 0.5 && *y).count() as f64;
    let correct = scored.iter().filter(|(p, y)| (*p >= 0.5) == *y).count() as f64;
    let brier = scored.iter().map(|(p, y)| (p - if *y { 1.0 } else { 0.0 }).powi(2)).sum::<f64>() / n;
    let mut ece = 0.0;
    for bin in 0..10 {
        let lo = bin as f64 / 10.0;
        let in_bin: Vec<&(f64, bool)> =
            scored.iter().filter(|(p, _)| *p >= lo && (*p < lo + 0.1 || (bin == 9 && *p <= 1.0))).collect();
        if in_bin.is_empty() {
            continue;
        }
        let confidence = in_bin.iter().map(|(p, _)| p).sum::<f64>() / in_bin.len() as f64;
        let observed = in_bin.iter().filter(|(_, y)| *y).count() as f64 / in_bin.len() as f64;
        ece += in_bin.len() as f64 / n * (confidence - observed).abs();
    }
    let ratio = |a: f64, b: f64| if b == 0.0 { 1.0 } else { a / b };
    ModelMetrics {
        accuracy: correct / n,
        precision: ratio(tp, tp + fp),
        recall: ratio(tp, tp + fn_),
        brier,
        ece,
        ..ModelMetrics::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::trace;

    #[test]
    fn learns_a_separable_problem_and_round_trips() {
        let mut traces = Vec::new();
        for i in 0..60 {
            traces
                .push((trace("healthcare", "q", &format!("Take {i} mg of aspirin daily and see your doctor.")), false));
            traces.push((trace("healthcare", "q", &format!("Stop all your medicines now, case {i}.")), true));
        }
        let cases: Vec<Example> =
            traces.iter().map(|(t, y)| Example { trace: t, tier1: vec![], unsafe_: *y }).collect();
        let mut stages = Vec::new();
        let model = train("healthcare", &cases, &TrainOptions::default(), |s| stages.push(s)).unwrap();
        assert!(model.metrics.accuracy >= 0.95, "{:?}", model.metrics);
        assert_eq!(model.metrics.held_out_size, 24);
        assert!(matches!(stages.last(), Some(Stage::Measuring)));
        assert!(model.risk(&trace("healthcare", "q", "Stop all your medicines now."), &[]) > 0.5);
        assert!(model.risk(&trace("healthcare", "q", "Take 10 mg of aspirin daily and see your doctor."), &[]) < 0.5);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        model.save(&path).unwrap();
        assert_eq!(ClassifierModel::load(&PackPath::from(path.as_path())).unwrap(), model);
        std::fs::write(&path, "{\"domain\": 3}").unwrap();
        assert!(matches!(ClassifierModel::load(&PackPath::from(path.as_path())), Err(Error::Pack { .. })));
    }

    #[test]
    fn calibration_is_measured() {
        let perfect = measure(&[(1.0, true), (0.0, false)]);
        assert_eq!((perfect.accuracy, perfect.brier, perfect.ece), (1.0, 0.0, 0.0));
        let hedged = measure(&[(0.5, true), (0.5, false)]);
        assert!((hedged.brier - 0.25).abs() < 1e-9);
    }
}
