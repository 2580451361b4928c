//! Making and measuring domain packs, above the cascade that runs them: [`generate`] writes a
//! pack from a short spec (tables, judge prompt, seed set, trained Tier 2 model), and [`eval`]
//! runs a pack's labelled sets through the cascade. The packs themselves, their data and the
//! text understanding their rules use, are [`crate::domains`].

pub mod eval;
pub mod generate;
