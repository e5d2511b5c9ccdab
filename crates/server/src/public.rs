//! Answers for everyone (the public page and its data): no account, no personal data, and cacheable, so that one
//! server can serve a whole province. A [`Cached`] answer keeps its bytes, their gzip and an entity tag; a client
//! that sends the tag back in `If-None-Match` gets `304 Not Modified` with no body.

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use std::io::Write as _;

/// How long browsers and proxies may reuse a public answer before asking again.
const CACHE_CONTROL: &str = "public, max-age=60";

/// A public answer made once: its bytes, gzipped, and its tag.
#[derive(Debug, Clone)]
pub struct Cached {
    pub plain: Bytes,
    pub gzip: Bytes,
    /// A strong entity tag of the plain bytes (quoted); the gzipped bytes answer with `"….gz"`.
    pub etag: String,
    pub content_type: &'static str,
}

impl Cached {
    /// Gzips and tags `body` (CPU work: call it off the async workers for large bodies).
    pub fn new(content_type: &'static str, body: Vec<u8>) -> std::io::Result<Cached> {
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(body.len() / 4),
            flate2::Compression::best(),
        );
        gz.write_all(&body)?;
        let gzip = gz.finish()?;
        let digest = Sha256::digest(&body);
        let etag = hex::encode(&digest[..12]);
        Ok(Cached {
            plain: body.into(),
            gzip: gzip.into(),
            etag: format!("\"{etag}\""),
            content_type,
        })
    }

    /// The bytes with their headers, gzipped when the client takes gzip, or 304 when its copy is current.
    pub fn answer(&self, headers: &HeaderMap) -> Response {
        let gzip = takes_gzip(headers);
        let etag = if gzip {
            format!("{}.gz\"", self.etag.trim_end_matches('"'))
        } else {
            self.etag.clone()
        };
        let fresh = headers
            .get_all(header::IF_NONE_MATCH)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag || t == self.etag);
        let mut out = if fresh {
            StatusCode::NOT_MODIFIED.into_response()
        } else if gzip {
            self.gzip.clone().into_response()
        } else {
            self.plain.clone().into_response()
        };
        let h = out.headers_mut();
        if !fresh {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(self.content_type),
            );
            if gzip {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
        }
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
        h.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static(CACHE_CONTROL),
        );
        h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
        out
    }
}

/// Whether `Accept-Encoding` takes gzip (a `q=0` refuses it).
fn takes_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let coding = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !refused
        })
}

/// A public JSON answer, cacheable.
pub fn json<T: serde::Serialize>(headers: &HeaderMap, value: &T) -> Response {
    let made = serde_json::to_vec(value)
        .map_err(std::io::Error::other)
        .and_then(|body| Cached::new("application/json", body));
    match made {
        Ok(c) => c.answer(headers),
        Err(e) => crate::error::ApiError::internal(e).into_response(),
    }
}
