//! Request extractors whose rejections use the API's one error shape.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// `axum::Json` with typed errors: 415 without a JSON content type, 400 for malformed JSON,
/// 422 when the JSON does not fit the expected shape, 413 past the body limit.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::unsupported_media_type("expected Content-Type: application/json")
        }
        JsonRejection::JsonSyntaxError(err) => {
            ApiError::bad_request("bad_json", format!("malformed JSON: {}", err.body_text()))
        }
        JsonRejection::JsonDataError(err) => {
            let mut error = ApiError::invalid_field("body", err.body_text());
            error.message = "the JSON body does not have the expected shape".into();
            error
        }
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::payload_too_large("request body too large")
        }
        other => ApiError::bad_request("bad_request", other.body_text()),
    }
}

/// Parses a JSON body read as bytes, with the same statuses as [`ApiJson`]: 400 when it is
/// not JSON, 422 when it is JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| match err.classify() {
        serde_json::error::Category::Data => {
            let mut error = ApiError::invalid_field("body", err.to_string());
            error.message = "the JSON body does not have the expected shape".into();
            error
        }
        _ => ApiError::bad_request("bad_json", format!("malformed JSON: {err}")),
    })
}

/// For `#[serde(default, deserialize_with = "present")]` on an `Option<Option<T>>` field of
/// a change request: a field sent as `null` is `Some(None)` (clear it), an absent one `None`
/// (leave it).
pub fn present<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// `axum::extract::Path` answering 422 for an id that does not parse (a non-UUID id).
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|rejection: PathRejection| {
                ApiError::invalid_field("path", rejection.body_text())
            })
    }
}

/// `axum::extract::Query` answering 422 with the offending parameter.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|rejection: QueryRejection| {
                ApiError::invalid_field("query", rejection.body_text())
            })
    }
}

/// `WebSocketUpgrade` answering 426 `upgrade_required` in the usual error shape when the
/// request is not a WebSocket upgrade.
pub struct ApiWebSocket(pub axum::extract::ws::WebSocketUpgrade);

impl<S: Send + Sync> FromRequestParts<S> for ApiWebSocket {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::ws::WebSocketUpgrade::from_request_parts(parts, state)
            .await
            .map(ApiWebSocket)
            .map_err(|rejection| {
                ApiError::new(
                    StatusCode::UPGRADE_REQUIRED,
                    "upgrade_required",
                    rejection.body_text(),
                )
            })
    }
}
