//! The public map layers as GeoJSON (no authentication, no personal data): thin handlers over
//! [`crate::services::map`] that answer the cached bytes, gzipped when the client takes gzip, with an entity tag
//! and a short public max-age.

use crate::AppState;
use crate::error::ApiResult;
use crate::services::map::{GeoJsonBody, Layer, public_layer};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LayerQuery {
    /// A province or district code (a commune for the communes layer); the deployment's province by default.
    unit: Option<String>,
}

/// `Cache-Control` of the public layers: shared caches may keep them a minute.
const CACHE_CONTROL: &str = "public, max-age=60";

pub async fn communes(
    State(st): State<AppState>,
    Query(q): Query<LayerQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let body = public_layer(&st, Layer::Communes, q.unit.as_deref()).await?;
    Ok(answer(&body, &headers))
}

pub async fn districts(
    State(st): State<AppState>,
    Query(q): Query<LayerQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let body = public_layer(&st, Layer::Districts, q.unit.as_deref()).await?;
    Ok(answer(&body, &headers))
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

/// The layer's bytes with their headers, or 304 when the client's copy is current.
fn answer(body: &GeoJsonBody, headers: &HeaderMap) -> Response {
    let gzip = takes_gzip(headers);
    let etag = if gzip {
        format!("{}.gz\"", body.etag.trim_end_matches('"'))
    } else {
        body.etag.clone()
    };
    let fresh = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag || t == body.etag);
    let mut out = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else if gzip {
        body.gzip.clone().into_response()
    } else {
        body.json.clone().into_response()
    };
    let h = out.headers_mut();
    if !fresh {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/geo+json"),
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
