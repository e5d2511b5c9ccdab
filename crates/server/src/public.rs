//! Answers for everyone (the public page and its data): no account, no personal data, and cacheable, so that one
//! server can serve a whole province. Each carries an `ETag` of its bytes; a client that sends it back in
//! `If-None-Match` gets `304 Not Modified` with no body.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// How long browsers and proxies may reuse a public answer before asking again.
pub const MAX_AGE_SECONDS: u32 = 60;

/// The strong entity tag of a body: a quoted prefix of its SHA-256.
pub fn etag(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether the client already holds the body with this tag.
pub fn not_modified(headers: &HeaderMap, tag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"))
}

/// A public answer of `content_type` with its tag and cache lifetime, or 304 when the client holds it.
pub fn cacheable(headers: &HeaderMap, content_type: &'static str, body: Vec<u8>) -> Response {
    let tag = etag(&body);
    let common = [
        (
            header::CACHE_CONTROL,
            HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECONDS}"))
                .unwrap_or(HeaderValue::from_static("public")),
        ),
        (
            header::ETAG,
            HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"\"")),
        ),
    ];
    if not_modified(headers, &tag) {
        return (StatusCode::NOT_MODIFIED, common).into_response();
    }
    (
        common,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

/// A public JSON answer, cacheable.
pub fn json<T: serde::Serialize>(headers: &HeaderMap, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => cacheable(headers, "application/json", body),
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}
