//! One error type for every HTTP API, answered as `application/problem+json` (RFC 9457).
//!
//! 4xx bodies tell the person what to fix (per field for validation); 5xx bodies are generic and
//! the cause goes to the log only.

use api_types::{FieldError, Problem};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use domain::{Issue, Subject, ValueError};
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{detail}")]
    Stale {
        detail: String,
        current_revision: i64,
    },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("{detail}")]
    Invalid {
        detail: String,
        errors: Vec<FieldError>,
    },
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after_seconds: u64,
    },
    #[error("{0}")]
    Unavailable(String),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// What every API call answers while the configuration database is down or too slow.
pub const DATABASE_UNAVAILABLE: &str =
    "The configuration database is unavailable; calls and registrations continue. Try again in a moment.";

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::Stale { .. } => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// One invalid field.
    pub fn invalid_field(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::Invalid {
            detail: message.clone(),
            errors: vec![FieldError {
                field: field.to_owned(),
                message,
                subject: None,
                code: None,
            }],
        }
    }

    /// The database did not answer: a 503 that says what still works.
    pub fn database_unavailable() -> Self {
        ApiError::Unavailable(DATABASE_UNAVAILABLE.to_owned())
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::NotFound(format!("{what} not found."))
    }

    /// The problem body this error is answered with.
    pub fn problem(&self) -> Problem {
        let status = self.status();
        let title = status.canonical_reason().unwrap_or("Error").to_owned();
        let (detail, errors, current_revision) = match self {
            ApiError::Internal(_) => (
                "Something went wrong on our side; it has been logged. Please try again."
                    .to_owned(),
                vec![],
                None,
            ),
            ApiError::Invalid { detail, errors } => (detail.clone(), errors.clone(), None),
            ApiError::Stale {
                detail,
                current_revision,
            } => (detail.clone(), vec![], Some(*current_revision)),
            other => (other.to_string(), vec![], None),
        };
        Problem {
            problem_type: "about:blank".into(),
            title,
            status: status.as_u16(),
            detail,
            errors,
            current_revision,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(err) = &self {
            tracing::error!(error = %format!("{err:#}"), "request failed");
        }
        let problem = self.problem();
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (self.status(), body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let retry_after = match self {
            ApiError::TooManyRequests {
                retry_after_seconds,
                ..
            } => Some(retry_after_seconds),
            ApiError::Unavailable(_) => Some(5),
            _ => None,
        };
        if let Some(value) = retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            headers.insert(header::RETRY_AFTER, value);
        }
        response
    }
}

impl From<engine::Error> for ApiError {
    fn from(err: engine::Error) -> Self {
        match err {
            engine::Error::InvalidField { field, message } => {
                ApiError::invalid_field(&field, message)
            }
            engine::Error::Store(err) => err.into(),
            engine::Error::Internal(err) => ApiError::Internal(err),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{} not found.", capitalize(&what))),
            StoreError::Conflict(message) => ApiError::Conflict(message),
            StoreError::Stale { what, current_revision } => ApiError::Stale {
                detail: format!("{what} was changed by someone else meanwhile. Reload to see the current values, then make your change again."),
                current_revision,
            },
            StoreError::Invalid(issues) => ApiError::Invalid {
                detail: format!("The configuration cannot be applied: {} problem(s) to fix first.", issues.len()),
                errors: issues.iter().map(issue_field_error).collect(),
            },
            other if other.is_unavailable() => ApiError::database_unavailable(),
            other @ (StoreError::Corrupt(_) | StoreError::Db(_)) => ApiError::Internal(anyhow::Error::new(other)),
        }
    }
}

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// `extension:101`, `did_route:+1555...`, `options`.
pub fn subject_key(subject: &Subject) -> String {
    match subject {
        Subject::Extension(n) => format!("extension:{n}"),
        Subject::DidRoute(d) => format!("did_route:{d}"),
        Subject::Options => "options".to_owned(),
    }
}

pub fn issue_field_error(issue: &Issue) -> FieldError {
    let code = serde_json::to_value(issue.code)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned));
    FieldError {
        field: issue.field.clone(),
        message: issue.message.clone(),
        subject: Some(subject_key(&issue.subject)),
        code,
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
                "Send the body as JSON with Content-Type: application/json.".into(),
            ),
            JsonRejection::JsonDataError(err) => ApiError::Invalid {
                detail: format!(
                    "The JSON body does not have the expected fields: {}",
                    err.body_text()
                ),
                errors: vec![],
            },
            JsonRejection::JsonSyntaxError(err) => {
                ApiError::BadRequest(format!("The body is not valid JSON: {}", err.body_text()))
            }
            JsonRejection::BytesRejection(_) => ApiError::PayloadTooLarge(
                "The request body is too large or could not be read.".into(),
            ),
            other => ApiError::BadRequest(other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(format!(
            "Invalid query parameters: {}",
            rejection.body_text()
        ))
    }
}

/// `Json<T>` whose rejections are problem documents.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.0).into_response();
        response
            .headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// `Query<T>` whose rejections are problem documents.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Collects the invalid fields of one request so that the person sees all of them at once.
#[derive(Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps the value, or records the field's error.
    pub fn check<T>(&mut self, field: &str, result: Result<T, ValueError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(err) => {
                self.0.push(FieldError {
                    field: field.to_owned(),
                    message: err.0,
                    subject: None,
                    code: None,
                });
                None
            }
        }
    }

    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
            subject: None,
            code: None,
        });
    }

    /// `Ok` when no field was invalid.
    pub fn finish(self) -> ApiResult<()> {
        if self.0.is_empty() {
            return Ok(());
        }
        let detail = if self.0.len() == 1 {
            self.0[0].message.clone()
        } else {
            "Some values are not valid.".to_owned()
        };
        Err(ApiError::Invalid {
            detail,
            errors: self.0,
        })
    }
}

/// The value after `fields.finish()?` succeeded. Only for values `check` returned `Some` for.
pub fn checked<T>(value: Option<T>) -> ApiResult<T> {
    value.ok_or_else(|| ApiError::Internal(anyhow::anyhow!("a checked field had no value")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_generic_for_clients() {
        let err = ApiError::Internal(anyhow::anyhow!("secret table name exploded"));
        let problem = err.problem();
        assert_eq!(problem.status, 500);
        assert!(!problem.detail.contains("secret"));
    }

    #[test]
    fn stale_edits_carry_the_current_revision() {
        let err = ApiError::from(StoreError::Stale {
            what: "Extension 101".into(),
            current_revision: 7,
        });
        let problem = err.problem();
        assert_eq!(problem.status, 409);
        assert_eq!(problem.current_revision, Some(7));
        assert!(problem.detail.starts_with("Extension 101 was changed"));
    }

    #[test]
    fn fields_collect_every_error() {
        let mut fields = Fields::new();
        assert!(fields
            .check("number", domain::ExtensionNumber::parse("x"))
            .is_none());
        assert!(fields
            .check("display_name", domain::DisplayName::parse("Ann"))
            .is_some());
        fields.add("ring_seconds", "too long");
        let ApiError::Invalid { errors, .. } = fields.finish().unwrap_err() else {
            panic!()
        };
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            vec!["number", "ring_seconds"]
        );
    }
}
