//! Pure LittlePBX domain logic.
//!
//! Invariant: this crate does no IO and knows nothing of HTTP, SQL or XML. Everything here can be
//! tested with plain values. Values that reach FreeSWITCH are parsed into newtypes at the edge
//! ([`values`]) so that an invalid extension number, DID or SIP domain cannot be built.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]

pub mod apply;
pub mod cdr;
pub mod config;
pub mod defaults;
pub mod diff;
pub mod history;
pub mod job;
pub mod trunk;
pub mod validate;
pub mod values;

pub use apply::ApplyFacts;
pub use config::{
    CallFlow, DidRoute, Extension, MohFileId, NoAnswer, OrgConfig, OrgOptions, OrgStatus,
};
pub use diff::{diff, Change, ChangeKind, Subject};
pub use job::JobState;
pub use validate::{validate, validate_draft, Issue, IssueCode, ValidationContext};
pub use values::*;
