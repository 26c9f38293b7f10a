//! The OpenAPI 3 document, generated from the handlers' annotations and served at
//! `/api/openapi.json`, and the API explorer (Swagger UI) at `/api/docs/`.

use axum::routing::{MethodRouter, get};
use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorBody, ErrorDetail, FieldError};

/// What the document says beside the routes; `api::router` adds every route from its
/// handler's annotation, and [`serve`] the errors common to a kind of route.
#[derive(OpenApi)]
#[openapi(
    info(title = "Workbook API", description = "Self-hosted server for live workshops."),
    components(schemas(ErrorBody, ErrorDetail, FieldError, crate::export::Format,
        super::sessions::StatusFilter)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// Adds the errors any route of a kind can answer, so each handler documents only its own:
/// 401 where a token is required, 400/413/415/422 where a JSON body is read, 422 for path
/// and query parameters that do not parse, 429 under the rate-limited `/api/workbook`.
struct CommonErrors;

impl Modify for CommonErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_common_errors(path, operation);
            }
        }
    }
}

fn add_common_errors(path: &str, operation: &mut Operation) {
    let mut codes: Vec<(&str, &str)> = Vec::new();
    if path.starts_with("/api/workbook") {
        codes.push(("429", "rate limited; see Retry-After"));
    }
    if operation.security.is_some() {
        codes.push(("401", "missing, invalid or expired token"));
    }
    if operation.request_body.is_some() {
        codes.extend([
            ("400", "malformed JSON"),
            ("413", "body too large"),
            ("415", "not application/json"),
            ("422", "invalid fields"),
        ]);
    }
    if operation.parameters.as_ref().is_some_and(|p| !p.is_empty()) {
        codes.push(("422", "invalid path or query parameter"));
    }
    for (code, description) in codes {
        let response = ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build();
        operation
            .responses
            .responses
            .entry(code.to_owned())
            .or_insert(response.into());
    }
}

/// The route serving `document`, completed with the common errors and encoded once.
pub fn serve<S: Clone + Send + Sync + 'static>(
    mut document: utoipa::openapi::OpenApi,
) -> MethodRouter<S> {
    CommonErrors.modify(&mut document);
    let body = axum::body::Bytes::from(
        serde_json::to_vec(&document).expect("an OpenAPI document always serializes"),
    );
    get(move || async move {
        (
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
    })
}

/// Swagger UI at `/api/docs/`, reading the served document. Its files are built into the
/// binary (the crate's `vendored` feature), so it works offline and loads nothing from
/// elsewhere.
pub fn explorer<S: Clone + Send + Sync + 'static>() -> axum::Router<S> {
    utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .config(utoipa_swagger_ui::Config::new(["/api/openapi.json"]))
        .into()
}
