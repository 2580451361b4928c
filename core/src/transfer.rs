//! The sim-to-real transfer metric for RL agents: how an agent's score in simulation predicts
//! its score in the real world, learned per domain from observed pairs (linear regression
//! with linfa), with split-conformal prediction intervals that hold their coverage whatever
//! the shape of the errors.

use std::collections::BTreeMap;

use linfa::prelude::*;
use linfa_linear::LinearRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::model::TransferPair;
use crate::{Error, FieldError, Result};

/// A prediction of the real score, with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TransferPrediction {
    pub predicted_real_score: f64,
    pub confidence_lower: f64,
    pub confidence_upper: f64,
}

/// A fitted transfer model: `real ≈ intercept + a·sim + Σ wᵢ·featureᵢ`, and the half-width
/// of its intervals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferModel {
    pub features: Vec<String>,
    pub intercept: f64,
    pub weights: Vec<f64>,
    /// The conformal quantile of the calibration residuals at `coverage`.
    pub half_width: f64,
    pub coverage: f64,
    pub pairs: usize,
}

/// Fewest pairs to learn from: a fit and a calibration set both worth the name.
pub const MIN_PAIRS: usize = 20;

/// Most named features one pair may carry, and a model may learn from: each is a column of
/// the regression, so an unbounded number would let one request size the server's memory.
pub const MAX_FEATURES: usize = 32;
/// Longest feature name.
pub const MAX_FEATURE_NAME_CHARS: usize = 64;

/// Checks a pair's or a prediction's features: at most [`MAX_FEATURES`], named by 1 to
/// [`MAX_FEATURE_NAME_CHARS`] characters, each a finite number.
pub fn check_features(features: &BTreeMap<String, f64>) -> std::result::Result<(), FieldError> {
    if features.len() > MAX_FEATURES {
        return Err(FieldError::new(
            "features",
            format!("has {} entries; at most {MAX_FEATURES} are allowed", features.len()),
        ));
    }
    for (name, value) in features {
        if name.is_empty() || name.chars().count() > MAX_FEATURE_NAME_CHARS {
            return Err(FieldError::new("features", format!("names must be 1 to {MAX_FEATURE_NAME_CHARS} characters")));
        }
        if !value.is_finite() {
            return Err(FieldError::new(format!("features.{name}"), "must be a finite number"));
        }
    }
    Ok(())
}

impl TransferModel {
    /// Fits on three quarters of `pairs` and calibrates the interval on the rest.
    pub fn fit(pairs: &[TransferPair], coverage: f64, seed: u64) -> Result<TransferModel> {
        if pairs.len() < MIN_PAIRS {
            return Err(Error::Invalid(FieldError::new(
                "pairs",
                format!("{} pairs recorded; predictions need at least {MIN_PAIRS}", pairs.len()),
            )));
        }
        // The features most pairs carry, at most MAX_FEATURES of them, however many names the
        // stored pairs hold between them.
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for name in pairs.iter().flat_map(|p| p.features.keys()) {
            *counts.entry(name).or_default() += 1;
        }
        // A feature few pairs carry is a column of zeros with a blip: nothing to learn from, and
        // a singular matrix when there are several.
        let mut ranked: Vec<(&str, usize)> = counts.into_iter().filter(|(_, n)| *n >= MIN_PAIRS / 2).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let mut features: Vec<String> = ranked.into_iter().take(MAX_FEATURES).map(|(n, _)| n.to_string()).collect();
        features.sort();
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(seed));
        let cut = pairs.len() * 3 / 4;
        let (fit_on, calibrate_on) = order.split_at(cut);
        let row = |p: &TransferPair| -> Vec<f64> {
            std::iter::once(p.sim_score)
                .chain(features.iter().map(|f| p.features.get(f).copied().unwrap_or(0.0)))
                .collect()
        };
        let width = features.len() + 1;
        let mut x = Array2::<f64>::zeros((fit_on.len(), width));
        for (r, &i) in fit_on.iter().enumerate() {
            for (c, v) in row(&pairs[i]).into_iter().enumerate() {
                x[[r, c]] = v;
            }
        }
        let y: Array1<f64> = fit_on.iter().map(|&i| pairs[i].real_score).collect();
        let fitted = LinearRegression::new().fit(&Dataset::new(x, y)).map_err(|e| {
            Error::Invalid(FieldError::new(
                "features",
                format!("the recorded pairs' features cannot be fitted ({e}); two features may always move together"),
            ))
        })?;
        let mut model = TransferModel {
            features: features.clone(),
            intercept: fitted.intercept(),
            weights: fitted.params().to_vec(),
            half_width: 0.0,
            coverage,
            pairs: pairs.len(),
        };
        let mut residuals: Vec<f64> = calibrate_on
            .iter()
            .map(|&i| (pairs[i].real_score - model.point(&pairs[i].sim_score, &pairs[i].features)).abs())
            .collect();
        residuals.sort_by(f64::total_cmp);
        // Split conformal: the ⌈(n+1)·coverage⌉-th smallest residual.
        let n = residuals.len();
        let k = (((n + 1) as f64 * coverage).ceil() as usize).clamp(1, n);
        model.half_width = residuals[k - 1];
        Ok(model)
    }

    fn point(&self, sim: &f64, features: &BTreeMap<String, f64>) -> f64 {
        let values = std::iter::once(*sim).chain(self.features.iter().map(|f| features.get(f).copied().unwrap_or(0.0)));
        self.intercept + values.zip(&self.weights).map(|(v, w)| v * w).sum::<f64>()
    }

    pub fn predict(&self, sim_score: f64, features: &BTreeMap<String, f64>) -> TransferPrediction {
        let p = self.point(&sim_score, features);
        TransferPrediction {
            predicted_real_score: p,
            confidence_lower: p - self.half_width,
            confidence_upper: p + self.half_width,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A standard normal draw (Box–Muller), to avoid another crate.
    fn normal(rng: &mut impl rand::Rng) -> f64 {
        let (u, v): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }

    /// The synthetic world: the real score is a known function of the simulated one and of
    /// market volatility, plus noise.
    fn world(rng: &mut impl rand::Rng) -> TransferPair {
        let sim: f64 = rng.gen_range(0.0..1.0);
        let volatility: f64 = rng.gen_range(0.0..0.5);
        let real = 0.05 + 0.8 * sim - 0.3 * volatility + 0.03 * normal(rng);
        TransferPair { sim_score: sim, real_score: real, features: [("volatility".to_string(), volatility)].into() }
    }

    #[test]
    fn learns_the_known_transfer_with_calibrated_intervals() {
        let mut maes = Vec::new();
        let mut coverages = Vec::new();
        for seed in 0..50 {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let train: Vec<TransferPair> = (0..1000).map(|_| world(&mut rng)).collect();
            let model = TransferModel::fit(&train, 0.9, seed).unwrap();
            let test: Vec<TransferPair> = (0..2000).map(|_| world(&mut rng)).collect();
            let (mut err, mut inside) = (0.0, 0);
            for t in &test {
                let p = model.predict(t.sim_score, &t.features);
                err += (p.predicted_real_score - t.real_score).abs();
                inside += usize::from(p.confidence_lower <= t.real_score && t.real_score <= p.confidence_upper);
            }
            maes.push(err / test.len() as f64);
            coverages.push(inside as f64 / test.len() as f64);
        }
        let mae = maes.iter().sum::<f64>() / maes.len() as f64;
        let coverage = coverages.iter().sum::<f64>() / coverages.len() as f64;
        let (lo, hi) = coverages.iter().fold((1.0f64, 0.0f64), |(lo, hi), c| (lo.min(*c), hi.max(*c)));
        eprintln!(
            "50 runs of 1,000 pairs: MAE {mae:.4}, 90% interval coverage {coverage:.4} (runs {lo:.3} to {hi:.3})"
        );
        assert!(mae < 0.05, "MAE {mae}");
        assert!((0.88..=0.92).contains(&coverage), "coverage {coverage}");
    }

    #[test]
    fn a_model_learns_from_at_most_max_features_columns() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        // 40 features every pair carries, and 20 of each pair's own, as a careless client would send.
        let pairs: Vec<TransferPair> = (0..200)
            .map(|i| {
                let mut p = world(&mut rng);
                p.features.extend((0..40).map(|k| (format!("shared{k:02}"), normal(&mut rng))));
                p.features.extend((0..20).map(|k| (format!("noise{i}_{k}"), 1.0)));
                p
            })
            .collect();
        let model = TransferModel::fit(&pairs, 0.9, 1).unwrap();
        assert_eq!(model.features.len(), MAX_FEATURES);
        assert!(model.features.iter().all(|f| !f.starts_with("noise")), "features of one pair are not learned");
        let mut too_many: BTreeMap<String, f64> = (0..=MAX_FEATURES).map(|i| (format!("f{i}"), 0.0)).collect();
        assert_eq!(check_features(&too_many).unwrap_err().field, "features");
        too_many.clear();
        too_many.insert("v".into(), f64::NAN);
        assert_eq!(check_features(&too_many).unwrap_err().field, "features.v");
    }

    #[test]
    fn too_few_pairs_is_a_clear_error() {
        let pair = TransferPair { sim_score: 0.5, real_score: 0.4, features: BTreeMap::new() };
        let err = TransferModel::fit(&vec![pair; 5], 0.9, 1).unwrap_err();
        assert!(err.to_string().contains("at least 20"), "{err}");
    }
}
