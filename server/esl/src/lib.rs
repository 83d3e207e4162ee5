//! A small FreeSWITCH event-socket (ESL) client, written against FreeSWITCH 1.10's bytes.
//!
//! # Layers
//!
//! - [`frame`]: the wire format. A frame is `Name: value\n` header lines ended by an empty line,
//!   then exactly `Content-Length` body bytes if that header is present. [`FrameDecoder`] is
//!   incremental: it copes with a frame split over many reads and with many frames in one read.
//! - [`event`]: events. `text/event-plain` bodies are a second header block with URL-encoded
//!   values (and their own `Content-Length` body, e.g. a BACKGROUND_JOB's output);
//!   `text/event-json` bodies are one JSON object whose `_body` is the body. Both decode to the
//!   same [`Event`].
//! - [`EslClient`]: one authenticated connection. A single task owns the socket; callers send
//!   commands to it over a channel. FreeSWITCH answers commands strictly in order, so the task
//!   keeps a FIFO of waiting commands and hands each `command/reply` / `api/response` to the
//!   oldest; event frames, which interleave freely with answers, go to a broadcast channel.
//!   This makes the client safe to use from many tasks at once without a lock held across
//!   awaits. Every command has a time limit; a command whose caller timed out keeps its place in
//!   the FIFO and its late answer is dropped, so answers never shift onto the wrong command.
//! - [`ReconnectingClient`]: keeps a connection up with exponential backoff, re-authenticates,
//!   re-sends the event subscriptions and publishes a [`ConnectionState`] ("FreeSWITCH not
//!   reachable: connection refused") for the application to show. Commands fail fast while
//!   disconnected instead of queueing.
//! - [`testpeer`] (cargo feature `test-peer`): a fake event socket speaking FreeSWITCH's exact
//!   bytes, recording the commands it receives, for this crate's and other crates' tests.
//!
//! # Decisions
//!
//! - `api` output starting with `-ERR`/`-USAGE` is an error ([`EslError::CommandFailed`]) from
//!   [`EslClient::api`]; [`EslClient::api_raw`] returns every output as text for callers that
//!   interpret it themselves (`sofia xmlstatus gateway X` answers `Invalid Gateway!`, no `-ERR`).
//! - A command, password or event name containing `\n`, `\r` or NUL is refused with
//!   [`EslError::InvalidCommand`] before anything is written: a line break would end the
//!   command and let the rest run as a second command.
//! - Error messages and logs name a command's verb, never its arguments or the password.
//! - Bodies are decoded as UTF-8 lossily (FreeSWITCH output is not guaranteed UTF-8).
//! - `event xml` is not supported; use plain or json.
#![forbid(unsafe_code)]
#![deny(clippy::unwrap_used, clippy::expect_used)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used))]
#![warn(missing_docs)]

mod client;
mod error;
pub mod event;
pub mod frame;
mod reconnect;
#[cfg(feature = "test-peer")]
pub mod testpeer;

pub use client::{EslClient, EVENT_CHANNEL_CAPACITY};
pub use error::EslError;
pub use event::{Event, EventError, EventFormat};
pub use frame::{Frame, FrameDecoder, FrameError, FrameKind, Headers};
pub use reconnect::{ConnectionState, EslConfig, ReconnectingClient};
