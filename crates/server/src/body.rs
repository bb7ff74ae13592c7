//! Reading request bodies strictly: JSON only, within the route's size limit, unknown fields
//! refused, and every failure a problem document naming the field (`steps[1].weight`) instead
//! of axum's plain-text rejections.

use axum::extract::{FromRequest, Request};
use axum::http::header;
use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use crate::problem::{FieldError, Problem, ProblemKind};

/// A JSON request body, parsed into `T` with field paths in every error.
#[derive(Debug, Clone)]
pub struct Body<T>(pub T);

impl<T, S> FromRequest<S> for Body<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Body<T>, Problem> {
        check_content_type(req.headers(), false)?;
        let bytes = read_bytes(req, state).await?;
        parse(&bytes).map(Body)
    }
}

/// The raw body, within the route's size limit; 413 when it is larger.
pub async fn read_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, Problem> {
    Bytes::from_request(req, state).await.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            Problem::new(
                ProblemKind::PayloadTooLarge,
                "the request body is larger than this endpoint accepts; nothing was changed",
            )
        } else {
            Problem::new(
                ProblemKind::BadRequest,
                format!("cannot read the request body: {}", rejection.body_text()),
            )
        }
    })
}

/// Refuses a body that is declared as something other than JSON. A missing content type is
/// accepted (curl without `-H`), as the body is parsed as JSON anyway. `text/plain` is
/// accepted only where `text_plain` is set: the event ingest, because `navigator.sendBeacon`
/// with a string body sends it (everywhere else it would let any web page post a "simple"
/// cross-origin request without a CORS preflight).
pub fn check_content_type(
    headers: &axum::http::HeaderMap,
    text_plain: bool,
) -> Result<(), Problem> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let json = essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
        || (text_plain && essence == "text/plain");
    if json {
        Ok(())
    } else {
        Err(Problem::new(
            ProblemKind::UnsupportedMediaType,
            format!("the body must be JSON (Content-Type: application/json), not {essence:?}"),
        ))
    }
}

/// Parses JSON into `T`: malformed JSON is `bad-request` with the line and column; JSON of
/// the wrong shape (an unknown field, a wrong type, a missing field) is `invalid` with the
/// field's path.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Problem> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(Problem::new(
            ProblemKind::BadRequest,
            "the request body is empty; send a JSON document",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = path_of(e.path());
        shape_or_syntax(e.into_inner(), path)
    })?;
    de.end()
        .map_err(|e| shape_or_syntax(e, String::new()))
        .map(|()| value)
}

fn shape_or_syntax(err: serde_json::Error, path: String) -> Problem {
    match err.classify() {
        Category::Data => Problem::invalid(vec![FieldError::new(path, message_of(&err))]),
        Category::Syntax | Category::Eof | Category::Io => Problem::new(
            ProblemKind::BadRequest,
            format!(
                "the request body is not valid JSON: {} (line {}, column {})",
                message_of(&err),
                err.line(),
                err.column()
            ),
        ),
    }
}

/// serde_json's message without its trailing " at line 1 column 5".
fn message_of(err: &serde_json::Error) -> String {
    let text = err.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}

/// `a.b[0].c`, and `""` for the document itself (serde_path_to_error prints `.`).
fn path_of(path: &serde_path_to_error::Path) -> String {
    let text = path.to_string();
    if text == "." { String::new() } else { text }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        #[serde(default)]
        items: Vec<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        weight: u32,
    }

    fn err(body: &str) -> Problem {
        parse::<Outer>(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn malformed_json_is_a_bad_request_with_a_position() {
        let p = err("{\"name\": ");
        assert!(p.is(ProblemKind::BadRequest), "{p}");
        assert!(p.detail.contains("line 1"), "{}", p.detail);
        let p = err("{\"name\": \"a\"} trailing");
        assert!(p.is(ProblemKind::BadRequest), "{p}");
        let p = err("   ");
        assert!(p.detail.contains("empty"), "{p}");
    }

    #[test]
    fn shape_errors_name_the_field() {
        let p = err(r#"{"name": "a", "items": [{"weight": 1}, {"weight": "x"}]}"#);
        assert!(p.is(ProblemKind::Invalid), "{p}");
        assert_eq!(p.errors[0].path, "items[1].weight");
        assert!(p.errors[0].message.contains("invalid type"), "{p}");
        assert!(!p.errors[0].message.contains("line"), "{p}");

        let p = err(r#"{"name": "a", "colour": "red"}"#);
        assert!(
            p.errors[0].message.contains("unknown field `colour`"),
            "{p}"
        );

        let p = err(r#"{"items": []}"#);
        assert!(p.errors[0].message.contains("missing field `name`"), "{p}");
    }

    #[test]
    fn content_types() {
        let mut h = axum::http::HeaderMap::new();
        assert!(check_content_type(&h, false).is_ok());
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
        ] {
            h.insert(header::CONTENT_TYPE, ok.parse().unwrap());
            assert!(check_content_type(&h, false).is_ok(), "{ok}");
        }
        h.insert(
            header::CONTENT_TYPE,
            "text/plain;charset=UTF-8".parse().unwrap(),
        );
        assert!(check_content_type(&h, true).is_ok());
        assert!(check_content_type(&h, false).is_err());
        h.insert(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        let p = check_content_type(&h, true).unwrap_err();
        assert!(p.is(ProblemKind::UnsupportedMediaType));
    }
}
