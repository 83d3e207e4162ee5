//! Request and response bodies of LittlePBX's HTTP APIs, shared by the server and the web app.
//!
//! Plain serde types only (this crate builds for wasm32). Values are validated by the server with
//! the `domain` types; here they are the strings people type.
#![forbid(unsafe_code)]

pub mod desk_phones;
pub mod history;
pub mod org;
pub mod phones;
pub mod problem;
pub mod provider;
pub mod provisioning;
pub mod stats;

pub use problem::{FieldError, Problem};
