//! What an operation of the engine (or the crates beside it) can fail with, in terms the web
//! layer maps to HTTP without the engine knowing HTTP.

use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input a person must correct: which field, and what to do.
    #[error("{message}")]
    InvalidField { field: String, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        Error::InvalidField {
            field: field.to_owned(),
            message: message.into(),
        }
    }
}
