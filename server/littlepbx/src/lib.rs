//! The LittlePBX server: configuration, start-up, HTTP routes and background work.
//!
//! Routes are thin: they parse input into `domain` values, call the `store` (and `fsxml` for
//! FreeSWITCH answers), and map the result to JSON or to one [`error::ApiError`].
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod app;
pub mod audio;
pub mod auth;
pub mod cdr;
pub mod config;
pub mod database;
pub mod error;
pub mod freeswitch;
pub mod jobs;
pub mod lockout;
pub mod mail;
pub mod moh_files;
pub mod provisioning;
pub mod routes;
pub mod secrets;
pub mod seed;
pub mod services;
pub mod sip_guard;
pub mod snapshot_file;
pub mod state;
pub mod stats;
pub mod views;
pub mod xml_cache;

pub use app::Application;
pub use config::Config;
