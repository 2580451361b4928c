//! The `aegis` binary's library: the HTTP API, the dashboard server, the process wiring
//! (`serve`, `worker`). The work itself happens in `aegis-core`; the load generators are the
//! separate `aegis-bench` binary.

pub mod api;
pub mod engine;
pub mod live;
pub mod state;
pub mod telemetry;
pub mod web;

/// The process's async runtime, with rustls's ring crypto provider installed first: reqwest is
/// built without one (its default, aws-lc, needs a C toolchain step), and ring is the one sqlx
/// already uses.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tokio::runtime::Builder::new_multi_thread().enable_all().build()
}
