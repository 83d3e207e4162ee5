//! Calls after the fact and as they happen: call records from mod_json_cdr (stored per org,
//! pruned after the retention time), statistics per org, and the live view of an org.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod cdr;
pub mod stats;
