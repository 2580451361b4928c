//! Integration tests: the API, the dashboard, the CLI and the real binary, on SQLite and
//! PostgreSQL. One test binary, so that it is linked once.

mod common;

mod api_analytics;
mod api_bodies;
mod api_domains;
mod api_models;
mod api_phi;
mod api_reviews;
mod api_sinks;
mod api_traces;
mod api_transfer;
mod cli;
mod dashboard;
mod durability;
mod fail_closed;
mod live_feed;
mod permissions;
mod phi_audit;
mod phi_canary;
mod rate_limits;
mod scale_out;
mod users;
