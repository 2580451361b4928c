//! Use cases both front ends share: the REST API (`server/src/api`) and the dashboard's server
//! functions (`app/src/api*`) parse and check their input here, so that the same request means
//! the same thing through either door. Each use case takes the authenticated [`Actor`] and
//! checks the permission table first, so a door that forgot its own check still refuses.
//!
//! [`Actor`]: crate::access::Actor

pub mod alerts;
pub mod analytics;
pub mod costs;
pub mod domains;
pub mod models;
pub mod phi;
pub mod reviews;
pub mod time;
pub mod traces;
pub mod transfer;
pub mod users;
pub mod webhooks;
