//! Active learning: which traces an expert's time is best spent on, and the simulation that
//! shows it pays.
//!
//! Experts label what the model is least sure of (uncertainty), nearest its decision
//! threshold (margin), what the tiers disagree on (disagreement), plus a small random slice
//! that keeps the labelled set honest for calibration.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::Serialize;

use crate::domains::classifier::features::Features;
use crate::domains::classifier::{fit, TrainOptions};
use crate::Result;

/// The strategy is the pack's choice (`review.strategy` in `domain.yaml`).
pub use crate::domains::spec::Strategy;

/// One run of pool-based active learning: start from a few random labels, then repeatedly
/// ask for the `step` most valuable of the rest, retrain, and measure on a test set.
#[derive(Debug, Clone, Serialize)]
pub struct Simulation {
    pub strategy: Strategy,
    /// `(labels used, test accuracy)` after each round.
    pub curve: Vec<(usize, f64)>,
    /// The fewest labels with which the test accuracy reached the target, if it did.
    pub labels_to_target: Option<usize>,
}

/// Settings of a simulation.
#[derive(Debug, Clone)]
pub struct SimulationOptions {
    pub start: usize,
    pub step: usize,
    pub max_labels: usize,
    pub target_accuracy: f64,
    pub threshold: f64,
    pub seed: u64,
    pub train: TrainOptions,
}

/// A featurized example: features, whether Tier 1 flagged it, and its label (unsafe).
pub type Labelled = (Features, bool, bool);

pub fn simulate(pool: &[Labelled], test: &[Labelled], strategy: Strategy, o: &SimulationOptions) -> Result<Simulation> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(o.seed);
    let mut unlabelled: Vec<usize> = (0..pool.len()).collect();
    unlabelled.shuffle(&mut rng);
    // The starting set is random, with both classes, the same for every strategy of a seed.
    let mut labelled: Vec<usize> = Vec::new();
    for want in [true, false] {
        if let Some(at) = unlabelled.iter().position(|&i| pool[i].2 == want) {
            labelled.push(unlabelled.remove(at));
        }
    }
    while labelled.len() < o.start && !unlabelled.is_empty() {
        labelled.push(unlabelled.remove(0));
    }
    let mut curve = Vec::new();
    let mut labels_to_target = None;
    loop {
        let rows: Vec<&Features> = labelled.iter().map(|&i| &pool[i].0).collect();
        let labels: Vec<bool> = labelled.iter().map(|&i| pool[i].2).collect();
        let model = fit("simulation", &rows, &labels, &o.train)?;
        let correct = test.iter().filter(|(x, _, y)| (model.risk_of(x) >= o.threshold) == *y).count();
        let accuracy = correct as f64 / test.len().max(1) as f64;
        curve.push((labelled.len(), accuracy));
        if accuracy >= o.target_accuracy && labels_to_target.is_none() {
            labels_to_target = Some(labelled.len());
            break;
        }
        if unlabelled.is_empty() || labelled.len() >= o.max_labels {
            break;
        }
        let mut ranked: Vec<(f64, usize)> = unlabelled
            .iter()
            .map(|&i| (strategy.priority(model.risk_of(&pool[i].0), o.threshold, pool[i].1, &mut rng), i))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let chosen: Vec<usize> = ranked.iter().take(o.step).map(|(_, i)| *i).collect();
        unlabelled.retain(|i| !chosen.contains(i));
        labelled.extend(chosen);
    }
    Ok(Simulation { strategy, curve, labels_to_target })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_rank_as_their_names_say() {
        let rng = || rand::rngs::StdRng::seed_from_u64(1);
        let u = |p: f64| Strategy::Uncertainty.priority(p, 0.5, false, &mut rng());
        assert!(u(0.5) > u(0.3) && u(0.3) > u(0.01));
        assert!((u(0.2) - u(0.8)).abs() < 1e-12, "symmetric");
        let m = |p: f64| Strategy::Margin.priority(p, 0.7, false, &mut rng());
        assert!(m(0.7) > m(0.5) && m(0.7) > m(0.9));
        let d = |p: f64, flagged: bool| Strategy::Disagreement.priority(p, 0.5, flagged, &mut rng());
        assert!(d(0.1, true) > d(0.9, true), "a rule fired but the model is calm: worth a look");
        assert!(d(0.9, false) > d(0.1, false));
    }
}
