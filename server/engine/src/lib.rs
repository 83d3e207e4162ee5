//! The operations of LittlePBX that the HTTP APIs and the command line share, and the work that
//! runs in the background: Apply jobs, the XML cache FreeSWITCH is answered from (and its copy
//! on disk), delivery of FreeSWITCH commands over the event socket, the database probe, mail,
//! secrets and the configuration. Knows nothing of HTTP.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod config;
pub mod database;
pub mod desk_phones;
pub mod error;
pub mod fs_socket;
pub mod history;
pub mod jobs;
pub mod lockout;
pub mod mail;
pub mod phonebook;
pub mod scratch_dirs;
pub mod secrets;
pub mod services;
pub mod sip_guard;
pub mod snapshot_file;
pub mod state;
pub mod xml_cache;

pub use error::{Error, Result};
pub use state::Engine;
