//! Extractors whose rejections are problem documents with the status that fits this API.

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ApiJson};

/// `Path<T>` whose rejections are 404 problems: a path whose id is not even well-formed names
/// nothing that exists.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(value)| Self(value))
            .map_err(|_| ApiError::NotFound("Nothing exists at this address.".into()))
    }
}

/// A JSON body that must be an object. serde would also build a struct from an array of its
/// field values (`[null, null]`); this API documents objects and refuses anything else (422).
pub struct JsonObject<T>(pub T);

impl<T, S> FromRequest<S> for JsonObject<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let ApiJson(value) = ApiJson::<serde_json::Value>::from_request(request, state).await?;
        if !value.is_object() {
            return Err(ApiError::Invalid {
                detail: "The body must be a JSON object ({...}).".into(),
                errors: vec![],
            });
        }
        serde_json::from_value(value)
            .map(Self)
            .map_err(|err| ApiError::Invalid {
                detail: format!("The JSON body does not have the expected fields: {err}"),
                errors: vec![],
            })
    }
}
