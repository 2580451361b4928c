//! Sim-to-real transfer: what is recorded per trace.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One observed pair: the agent's score in simulation and in reality, and what else describes
/// the episode (named numbers such as `volatility`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransferPair {
    pub sim_score: f64,
    pub real_score: f64,
    #[serde(default)]
    pub features: BTreeMap<String, f64>,
}
