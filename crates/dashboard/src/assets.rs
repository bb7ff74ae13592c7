//! The stylesheet and the script, compiled into the binary and served from `/assets/`, so
//! the dashboard needs no file from the internet and no build step. Their URLs carry a hash
//! of their content, so browsers may cache them for good.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const STYLE: &str = include_str!("../assets/style.css");
const SCRIPT: &str = include_str!("../assets/app.js");

static STYLE_URL: LazyLock<String> = LazyLock::new(|| url("style.css", STYLE));
static SCRIPT_URL: LazyLock<String> = LazyLock::new(|| url("app.js", SCRIPT));

/// `/assets/style.css?v=<hash>`.
pub(crate) fn style_url() -> &'static str {
    &STYLE_URL
}

/// `/assets/app.js?v=<hash>`.
pub(crate) fn script_url() -> &'static str {
    &SCRIPT_URL
}

/// `GET /assets/{file}`.
pub(crate) async fn asset(Path(file): Path<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such asset").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(kind)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        body,
    )
        .into_response()
}

fn url(name: &str, content: &str) -> String {
    let hash = hex::encode(Sha256::digest(content.as_bytes()));
    format!("/assets/{name}?v={}", &hash[..12])
}
