//! The OpenAPI 3.1 document of the provider API, generated from the handlers' annotations.
//!
//! Error answers every operation shares are added by [`ProblemResponses`] from what the
//! operation takes (a body, a query, a path id), so no operation can forget them; answers only
//! some operations give (403, 409, 503) are written on the handler itself.

use std::sync::OnceLock;

use api_types::{provider, FieldError, Problem};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

use super::{admins, api_keys, desk_phones, dids, history, logo, orgs, stats, status, trunks};

const DESCRIPTION: &str = "\
The provider's API: organizations, their logo, admins, trunks and phone numbers (DIDs).

Authenticate every request with `Authorization: Bearer lpbx_...` (create a key with \
`littlepbx api-key create NAME`). A provider-wide key reaches every organization; a key created \
with `--org SLUG` reaches that organization only: any other one answers 404, and creating or \
deleting organizations, changing status or limits, and managing keys answer 403.

Bodies are JSON. Errors are `application/problem+json` (RFC 9457) with `errors` naming each \
invalid field. Secrets (trunk passwords, keys) are write-only: never returned, never logged. \
Phone numbers in paths are E.164, URL-encoded (`%2B15550100100`).";

#[derive(OpenApi)]
#[openapi(
    info(title = "LittlePBX provider API", description = DESCRIPTION),
    paths(
        orgs::list, orgs::create, orgs::get, orgs::patch, orgs::delete,
        logo::put, logo::get, logo::delete,
        admins::list, admins::create, admins::get, admins::reset_password, admins::delete,
        trunks::list, trunks::get, trunks::put, trunks::delete,
        dids::list, dids::add, dids::remove,
        status::get, stats::get,
        history::list, history::preview, history::restore,
        desk_phones::list, desk_phones::add, desk_phones::change, desk_phones::remove,
        api_keys::list, api_keys::create, api_keys::delete,
    ),
    components(schemas(
        Problem, FieldError, provider::Limits, provider::OrgCreate, provider::OrgCreated,
        provider::OrgView, provider::OrgPatch, provider::OrgList, provider::AdminCreate,
        provider::AdminView, provider::AdminCreated, provider::AdminList,
        provider::AdminPasswordReset, provider::AdminPasswordResult, provider::TrunkPut,
        provider::TrunkView, provider::TrunkList, provider::GatewayState, provider::DidCreate,
        provider::DidList, provider::OrgStatusView, provider::TrunkGatewayState,
        provider::ApiKeyCreate, provider::ApiKeyCreated, provider::ApiKeyView,
        provider::ApiKeyList, api_types::stats::OrgTotalsView,
        api_types::history::HistoryPage, api_types::history::HistoryEntry,
        api_types::history::RestorePreview, api_types::history::RestoreRequest,
        api_types::history::RestoreResult,
        api_types::desk_phones::DeskPhoneList, api_types::desk_phones::DeskPhone,
        api_types::desk_phones::DeskPhoneModel, api_types::desk_phones::DeskPhoneState,
        api_types::desk_phones::NewDeskPhone, api_types::desk_phones::NewDeskPhones,
        api_types::desk_phones::DeskPhoneChange,
    )),
    modifiers(&BearerKeys, &ProblemResponses),
    security(("bearer" = [])),
    tags(
        (name = "organizations", description = "Create, list, change and delete organizations"),
        (name = "logo", description = "The company logo shown on the org's pages"),
        (name = "admins", description = "The people who manage an org's PBX in the web app"),
        (name = "trunks", description = "The org's inbound and outbound carrier accounts"),
        (name = "dids", description = "The org's phone numbers"),
        (name = "status", description = "An org at a glance"),
        (name = "stats", description = "Call totals per org, for billing"),
        (name = "desk-phones", description = "Desk phones that fetch their configuration by MAC address"),
        (name = "history", description = "An org's Applies, and restoring a version into its draft"),
        (name = "api-keys", description = "Keys for this API"),
    )
)]
pub struct ApiDoc;

struct BearerKeys;

impl Modify for BearerKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("lpbx_...")
                    .description(Some("A provider API key: `Authorization: Bearer lpbx_...`"))
                    .build(),
            ),
        );
    }
}

/// The shared error answers: (status, component name, description, example detail).
const SHARED: &[(u16, &str, &str, &str)] = &[
    (400, "BadRequest", "The body is not JSON, or a query parameter has the wrong type", "The body is not valid JSON: expected value at line 1 column 1"),
    (401, "Unauthorized", "No API key, or one that is not valid", "Send your API key in the header Authorization: Bearer lpbx_..."),
    (404, "NotFound", "No such object (or one the key may not see)", "There is no organization \"acme\"."),
    (413, "PayloadTooLarge", "The body is larger than the limit", "The request body is too large or could not be read."),
    (415, "UnsupportedMediaType", "The body's Content-Type is not one this operation takes", "Send the body as JSON with Content-Type: application/json."),
    (422, "UnprocessableEntity", "Some values are not valid; `errors` names each field", "A short name has 2 to 32 lowercase letters, digits or single hyphens, and starts with a letter."),
];

/// Adds the shared error answers to every operation, by what the operation takes.
struct ProblemResponses;

impl Modify for ProblemResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        for (status, name, description, detail) in SHARED {
            let example = json!({
                "type": "about:blank",
                "title": axum::http::StatusCode::from_u16(*status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error"),
                "status": status,
                "detail": detail,
            });
            let response = ResponseBuilder::new()
                .description(*description)
                .content(
                    "application/problem+json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name("Problem")))
                        .example(Some(example))
                        .build(),
                )
                .build();
            components
                .responses
                .insert((*name).to_owned(), RefOr::T(response));
        }
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ];
            for operation in operations.into_iter().flatten() {
                add_shared(operation);
            }
        }
    }
}

fn add_shared(operation: &mut Operation) {
    let has = |place: ParameterIn, op: &Operation| {
        op.parameters
            .iter()
            .flatten()
            .any(|p| p.parameter_in == place)
    };
    let body = operation.request_body.is_some();
    let query = has(ParameterIn::Query, operation);
    let path = has(ParameterIn::Path, operation);
    let wanted = [
        (400, body || query),
        (401, true),
        (404, path),
        (413, body),
        (415, body),
        (422, body || query),
    ];
    for (status, needed) in wanted {
        let Some((_, name, _, _)) = SHARED.iter().find(|s| s.0 == status) else {
            continue;
        };
        let key = status.to_string();
        if needed && !operation.responses.responses.contains_key(&key) {
            operation.responses.responses.insert(
                key,
                RefOr::Ref(Ref::new(format!("#/components/responses/{name}"))),
            );
        }
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.merge(crate::routes::provision::ProvisionDoc::openapi());
        serde_json::to_value(doc).unwrap_or_default()
    })
}

/// `GET /api/v1/openapi.json` (no key needed).
pub async fn openapi_json() -> Response {
    let mut response = axum::Json(document()).into_response();
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_documents_its_errors() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                if !["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                    continue;
                }
                operations += 1;
                let responses = op["responses"].as_object().unwrap();
                assert!(responses.contains_key("401"), "{method} {path}");
                if path.contains('{') {
                    assert!(responses.contains_key("404"), "{method} {path}");
                }
                if op.get("requestBody").is_some() {
                    for status in ["413", "415", "422"] {
                        assert!(responses.contains_key(status), "{method} {path} {status}");
                    }
                }
            }
        }
        assert_eq!(operations, 34);
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
