//! Music on hold: uploaded audio decoded and converted to what FreeSWITCH streams, and the
//! recordings' files on disk; and the check of uploaded SVG logos (`svg`). No database, no HTTP.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod audio;
pub mod moh_files;
pub mod svg;
