//! The public map layers as GeoJSON (no authentication, no personal data): thin handlers over
//! [`crate::services::map`] that answer the cached bytes, gzipped when the client takes gzip, with an entity tag
//! and a short public max-age.

use crate::AppState;
use crate::error::ApiResult;
use crate::services::map::{Layer, public_layer};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LayerQuery {
    /// A province or district code (a commune for the communes layer); the deployment's province by default.
    unit: Option<String>,
}

pub async fn communes(
    State(st): State<AppState>,
    Query(q): Query<LayerQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let body = public_layer(&st, Layer::Communes, q.unit.as_deref()).await?;
    Ok(body.answer(&headers))
}

pub async fn districts(
    State(st): State<AppState>,
    Query(q): Query<LayerQuery>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let body = public_layer(&st, Layer::Districts, q.unit.as_deref()).await?;
    Ok(body.answer(&headers))
}
