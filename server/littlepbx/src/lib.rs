//! The LittlePBX server: start-up (configuration, database, background work, HTTP) and the
//! demo seed; the command line is in `main.rs`.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod seed;

pub use app::Application;
