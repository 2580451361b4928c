//! The Aegis evaluation core.
//!
//! The data path reads top to bottom: [`ingest`] validates and durably stores traces together
//! with their evaluation jobs, [`pipeline`] claims jobs and runs the [`tiers`] cascade, and
//! [`store`] holds everything in SQLite (the embedded default) or PostgreSQL, and [`live`] fans
//! each finished evaluation out to the dashboards' live feeds, and [`sinks`] delivers the
//! webhooks and alerts it causes.
//! Nothing here knows about HTTP: the server and the dashboard are thin shells around it.

pub mod error;
pub mod model;

pub mod access;
#[cfg(feature = "engine")]
pub mod auth;
#[cfg(feature = "engine")]
pub mod config;
#[cfg(feature = "engine")]
pub mod domains;
#[cfg(feature = "engine")]
pub mod ingest;
#[cfg(feature = "engine")]
pub mod limits;
#[cfg(feature = "engine")]
pub mod live;
#[cfg(feature = "engine")]
pub mod packs;
#[cfg(feature = "engine")]
pub mod phi;
#[cfg(feature = "engine")]
pub mod pipeline;
#[cfg(feature = "engine")]
pub mod review;
#[cfg(feature = "engine")]
pub mod secret;
#[cfg(feature = "engine")]
pub mod seed;
#[cfg(feature = "engine")]
pub mod service;
#[cfg(feature = "engine")]
pub mod sinks;
#[cfg(feature = "engine")]
pub mod store;
#[cfg(feature = "engine")]
pub mod telemetry;
#[cfg(feature = "engine")]
pub mod tiers;
#[cfg(feature = "engine")]
pub mod totp;
#[cfg(feature = "engine")]
pub mod transfer;

#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use error::{Error, FieldError, Result};
