//! The integration tests of the freeswitch crate, in one binary: golden files, cross-org refusals per
//! section, the event-socket commands, and property tests over hostile inputs.

mod chatplan_config;
mod common;
mod dialplan;
mod directory;
mod golden;
mod props;
mod sync;
