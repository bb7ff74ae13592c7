//! The OpenAPI document: generated from the handlers' annotations and the DTOs' schemas as the
//! routes are registered (`utoipa-axum`), so a route cannot exist without its documentation.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api::responses::{
    BadRequest, Conflict, Forbidden, Invalid, NotFound, PayloadTooLarge, Unauthorized, Unavailable,
    UnsupportedMediaType,
};
use crate::problem::{FieldError, Problem};

/// The document's fixed parts: title, tags, security schemes, shared error responses.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Rollgate API",
        description = "Control a progressive delivery: services and versions, rollouts and their commands, the decision log, metrics and verdicts, experiments, assignment, tokens; plus OpenFeature remote evaluation (OFREP) and client event ingest. Every error is an RFC 9457 problem document (`application/problem+json`), except OFREP's, which follow the OFREP error shapes."
    ),
    components(schemas(Problem, FieldError), responses(
        BadRequest, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge,
        UnsupportedMediaType, Invalid, Unavailable
    )),
    modifiers(&SecuritySchemes),
    tags(
        (name = "rollouts", description = "Create, read and steer rollouts"),
        (name = "services", description = "Services, version snapshots, restores"),
        (name = "decisions", description = "The audit log of every change of weight or phase"),
        (name = "metrics", description = "Per-cohort measurements and verdicts"),
        (name = "experiments", description = "A/B experiments"),
        (name = "assignment", description = "Which version and variants a unit gets"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "meta", description = "The API itself"),
        (name = "ofrep", description = "OpenFeature Remote Evaluation Protocol"),
        (name = "events", description = "Client events from SDKs and browsers"),
    )
)]
pub struct ApiDoc;

/// `bearer`: API tokens (`Authorization: Bearer rg_…`); `ingest_key`: the write-only key of
/// `/v1/events`.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API token from `rollgate token create` (roles: viewer, operator, admin)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "ingest_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Rollgate-Ingest-Key",
                "The write-only event ingest key (from the variable named by `[control] ingest_key_env`)",
            ))),
        );
    }
}
