//! Request extractors whose rejections use the API's one error shape.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::CONTENT_TYPE;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::ApiError;

/// A JSON body with typed errors: 415 without a JSON content type, 400 for malformed JSON,
/// 422 naming the field (`title`, `tags[2]`) when the JSON does not fit the expected shape,
/// 413 past the body limit.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type(
                "expected Content-Type: application/json",
            ));
        }
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::payload_too_large("request body too large")
            } else {
                ApiError::bad_request("bad_request", rejection.body_text())
            }
        })?;
        parse_json(&body).map(ApiJson)
    }
}

/// `application/json`, or a `+json` type such as `application/merge-patch+json`.
fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .is_some_and(|mime| {
            mime.type_() == "application"
                && (mime.subtype() == "json" || mime.suffix().is_some_and(|s| s == "json"))
        })
}

/// Parses a JSON body read as bytes, with the same statuses as [`ApiJson`]: 400 when it is
/// not JSON, 422 naming the field when it is JSON of the wrong shape.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|err| {
        let path = err.path().to_string();
        let err = err.into_inner();
        match err.classify() {
            serde_json::error::Category::Data => field_error(&path, &err),
            _ => malformed(&err),
        }
    })?;
    deserializer.end().map_err(|err| malformed(&err))?;
    Ok(value)
}

fn malformed(err: &serde_json::Error) -> ApiError {
    ApiError::bad_request("bad_json", format!("malformed JSON: {err}"))
}

/// A data error as a field error: the field's path (`tags[2]`, `content.objectives[0]`;
/// `body` for the body as a whole) and serde's words without their line and column, turned
/// round where that reads better.
fn field_error(path: &str, err: &serde_json::Error) -> ApiError {
    let text = err.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(t, _)| t);
    let parent = if path == "." { "" } else { path };
    let child = |name: &str| {
        if parent.is_empty() {
            name.to_owned()
        } else {
            format!("{parent}.{name}")
        }
    };
    let quoted = |rest: &str| rest.split('`').nth(1).unwrap_or_default().to_owned();
    let (field, message) = if let Some(rest) = text.strip_prefix("missing field ") {
        (child(&quoted(rest)), "is required".to_owned())
    } else if let Some(rest) = text.strip_prefix("unknown field ") {
        // Here the path already ends in the unknown key.
        let expected = rest.split_once(", ").map_or("", |(_, e)| e);
        (
            path.to_owned(),
            format!("is not a field of this request; {expected}"),
        )
    } else {
        let field = if parent.is_empty() { "body" } else { parent };
        let message = ["invalid type: ", "invalid value: "]
            .iter()
            .find_map(|prefix| text.strip_prefix(prefix))
            .and_then(|rest| rest.rsplit_once(", expected "))
            .map_or_else(
                || text.to_owned(),
                |(got, expected)| format!("must be {expected}, not {got}"),
            );
        (field.to_owned(), message)
    };
    ApiError::invalid_field(&field, message)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Note {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
        #[serde(default)]
        content: Option<Content>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Content {
        objectives: Vec<String>,
    }

    /// The one field error a body answers with.
    fn error(body: &str) -> (String, String) {
        let err = parse_json::<Note>(body.as_bytes()).unwrap_err();
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(err.fields.len(), 1);
        (err.fields[0].field.clone(), err.fields[0].message.clone())
    }

    #[test]
    fn field_errors_name_the_field_in_plain_words() {
        assert_eq!(error("{}"), ("title".into(), "is required".into()));
        assert_eq!(
            error(r#"{"title": "a", "tags": ["x", "y", 3]}"#),
            ("tags[2]".into(), "must be a string, not integer `3`".into())
        );
        let (field, message) = error(r#"{"titel": "a"}"#);
        assert_eq!(field, "titel");
        assert!(message.starts_with("is not a field of this request; expected one of `title`"));
        assert_eq!(
            error(r#"{"title": "a", "content": {"objectives": [1]}}"#).0,
            "content.objectives[0]"
        );
        assert_eq!(
            error(r#"{"title": "a", "content": {}}"#).0,
            "content.objectives"
        );
        assert_eq!(
            error("3"),
            ("body".into(), "must be struct Note, not integer `3`".into())
        );
    }

    #[test]
    fn a_good_body_parses() {
        let note: Note =
            parse_json(br#"{"title": "a", "tags": ["x"], "content": {"objectives": ["o"]}}"#)
                .unwrap();
        assert_eq!(
            (note.title.as_str(), note.tags.as_slice()),
            ("a", ["x".to_owned()].as_slice())
        );
        assert_eq!(note.content.unwrap().objectives, ["o"]);
    }

    #[test]
    fn malformed_json_is_400_and_not_a_field_error() {
        for body in ["", "{", r#"{"title": "a"} trailing"#] {
            let err = parse_json::<Note>(body.as_bytes()).unwrap_err();
            assert_eq!(err.status, StatusCode::BAD_REQUEST, "{body}");
            assert_eq!(err.code, "bad_json");
        }
    }
}
