//! The `aegis` binary's library: the HTTP API, the dashboard server, the process wiring
//! (`serve`, `worker`) and the load generator. The work itself happens in `aegis-core`.

pub mod api;
pub mod bench;
pub mod engine;
pub mod live;
pub mod state;
pub mod telemetry;
pub mod web;
