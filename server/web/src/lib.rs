//! Everything LittlePBX answers over HTTP: FreeSWITCH's lookups and call records, the org web
//! app's API and pages, the provider's REST API with its OpenAPI document, and phones'
//! provisioning. Routes are thin: they parse input into `domain` values, call the `engine`,
//! `calls` or `store`, and map the result to JSON or to one [`error::ApiError`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod api_docs;
pub mod auth;
pub mod desk_phones;
pub mod error;
pub mod provisioning;
pub mod routes;
pub mod state;
pub mod views;

pub use state::AppState;
