//! The one error type of the crate.

use std::sync::Arc;
use std::time::Duration;

use crate::frame::FrameError;

/// Everything that can go wrong talking to FreeSWITCH. Cloneable, so one connection failure can
/// be handed to every command waiting on that connection.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum EslError {
    /// Connecting, reading or writing failed (e.g. connection refused: FreeSWITCH not running).
    #[error("event socket I/O error: {0}")]
    Io(Arc<std::io::Error>),
    /// No answer in time. `what` names the step or command verb (never arguments or passwords).
    #[error("no answer from FreeSWITCH within {after:?} ({what})")]
    Timeout {
        /// The time limit that passed.
        after: Duration,
        /// `connect`, `auth`, or the command verb such as `api xml_flush_cache`.
        what: String,
    },
    /// FreeSWITCH answered `-ERR invalid` to `auth`: wrong event socket password.
    #[error("FreeSWITCH rejected the event socket password")]
    AuthRejected,
    /// FreeSWITCH's ACL refused the connection (`text/rude-rejection`).
    #[error("FreeSWITCH refused the connection: {0}")]
    AccessDenied(String),
    /// The command would break the wire format (line break or NUL in it) or is empty. Nothing was
    /// sent.
    #[error("refused to send command: {0}")]
    InvalidCommand(&'static str),
    /// FreeSWITCH answered with an error: a `-ERR ...` Reply-Text, or an `api` body starting with
    /// `-ERR` or `-USAGE` (trailing line break removed).
    #[error("FreeSWITCH answered: {0}")]
    CommandFailed(String),
    /// FreeSWITCH sent something this client cannot follow; the connection is closed.
    #[error("event socket protocol error: {0}")]
    Protocol(String),
    /// The connection closed while the command was queued or waiting for its answer.
    #[error("event socket connection closed: {0}")]
    Disconnected(String),
    /// (Reconnecting client) there is no connection at the moment; `0` is the last error.
    #[error("FreeSWITCH event socket not connected: {0}")]
    NotConnected(String),
}

impl From<std::io::Error> for EslError {
    fn from(e: std::io::Error) -> Self {
        Self::Io(Arc::new(e))
    }
}

impl From<FrameError> for EslError {
    fn from(e: FrameError) -> Self {
        Self::Protocol(e.to_string())
    }
}

/// Checks a command line (or password, or event name) before it is written: a `\n` or `\r` would
/// end the command early and let the rest be read as a second command.
pub(crate) fn check_line(s: &str) -> Result<(), EslError> {
    if s.contains(['\n', '\r']) {
        return Err(EslError::InvalidCommand("line break in command"));
    }
    if s.contains('\0') {
        return Err(EslError::InvalidCommand("NUL byte in command"));
    }
    if s.trim().is_empty() {
        return Err(EslError::InvalidCommand("empty command"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_checks() {
        assert!(check_line("status").is_ok());
        assert!(matches!(
            check_line("status\nexit"),
            Err(EslError::InvalidCommand(_))
        ));
        assert!(matches!(
            check_line("a\rb"),
            Err(EslError::InvalidCommand(_))
        ));
        assert!(matches!(
            check_line("a\0b"),
            Err(EslError::InvalidCommand(_))
        ));
        assert!(matches!(check_line("  "), Err(EslError::InvalidCommand(_))));
    }
}
