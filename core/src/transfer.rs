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

use crate::{Error, FieldError, Result};

/// One observed pair: the agent's score in simulation and in reality, and what else describes
/// the episode (named numbers such as `volatility`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferPair {
    pub sim_score: f64,
    pub real_score: f64,
    #[serde(default)]
    pub features: BTreeMap<String, f64>,
}

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

impl TransferModel {
    /// Fits on three quarters of `pairs` and calibrates the interval on the rest.
    pub fn fit(pairs: &[TransferPair], coverage: f64, seed: u64) -> Result<TransferModel> {
        if pairs.len() < MIN_PAIRS {
            return Err(Error::Invalid(FieldError::new(
                "pairs",
                format!("{} pairs recorded; predictions need at least {MIN_PAIRS}", pairs.len()),
            )));
        }
        let features: Vec<String> = pairs
            .iter()
            .flat_map(|p| p.features.keys().cloned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
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
        let fitted = LinearRegression::new()
            .fit(&Dataset::new(x, y))
            .map_err(|e| Error::Internal(format!("the transfer regression did not fit: {e}")))?;
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
    fn too_few_pairs_is_a_clear_error() {
        let pair = TransferPair { sim_score: 0.5, real_score: 0.4, features: BTreeMap::new() };
        let err = TransferModel::fit(&vec![pair; 5], 0.9, 1).unwrap_err();
        assert!(err.to_string().contains("at least 20"), "{err}");
    }
}
