//! Exposure places: a health officer publishes or withdraws a confirmed case's places; everyone reads the list.

use super::OptionalBody;
use crate::AppState;
use crate::auth::Staff;
use crate::error::ApiResult;
use crate::services::exposure::{self, ExposurePlaceView, PublishRequest, Published};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Publishes the case's places (its zones) on the public page until the expiry (`days`, 14 by default).
pub async fn publish(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    OptionalBody(req): OptionalBody<PublishRequest>,
) -> ApiResult<(StatusCode, Json<Published>)> {
    let published = exposure::publish(&st, &staff.0, id, req).await?;
    Ok((StatusCode::CREATED, Json(published)))
}

/// Takes the case's places off the public page.
pub async fn withdraw(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Published>> {
    Ok(Json(exposure::withdraw(&st, &staff.0, id).await?))
}

/// The published places and windows, with no case and no person: public, cacheable for a minute.
pub async fn public_places(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    let places: Vec<ExposurePlaceView> = exposure::public_places(&st).await?;
    Ok(crate::public::json(&headers, &places))
}
