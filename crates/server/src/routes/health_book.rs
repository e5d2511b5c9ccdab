//! Daily health updates and the electronic health book: the resident's own (`/api/v1/me/…`) and a person's
//! for staff inside their jurisdiction (`/api/v1/residents/{citizen_id}/…`), and the book as a FHIR document.

use super::Body;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiResult, request_lang};
use crate::services::health_book::{self, HealthBookView};
use crate::services::health_updates::{self, Posted};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemdich_domain::RawHealthUpdate;

/// The signed-in resident posts their daily update: 201 `{id, urgent}`.
pub async fn post_mine(
    State(st): State<AppState>,
    staff: Staff,
    Body(raw): Body<RawHealthUpdate>,
) -> ApiResult<(StatusCode, Json<Posted>)> {
    let posted = health_updates::post_mine(&st, &staff.0, &raw).await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

/// An officer or health officer enters an update for a person of their jurisdiction: 201 `{id, urgent}`.
pub async fn post_for(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
    Body(raw): Body<RawHealthUpdate>,
) -> ApiResult<(StatusCode, Json<Posted>)> {
    let posted = health_updates::post_for(&st, &staff.0, &citizen_id, &raw).await?;
    Ok((StatusCode::CREATED, Json(posted)))
}

/// The signed-in resident's health book.
pub async fn mine(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<HealthBookView>> {
    Ok(Json(
        health_book::mine(&st, &staff.0, request_lang()).await?,
    ))
}

/// A person's health book (health, officer, admin in jurisdiction; 404 outside it).
pub async fn of(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
) -> ApiResult<Json<HealthBookView>> {
    Ok(Json(
        health_book::of(&st, &staff.0, &citizen_id, request_lang()).await?,
    ))
}

/// The signed-in resident's health book as a FHIR document Bundle.
pub async fn mine_fhir(State(st): State<AppState>, staff: Staff) -> ApiResult<Response> {
    fhir_answer(&health_book::mine_document(&st, &staff.0).await?)
}

/// A person's health book as a FHIR document Bundle (as the JSON book: staff in jurisdiction, audited).
pub async fn of_fhir(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
) -> ApiResult<Response> {
    fhir_answer(&health_book::of_document(&st, &staff.0, &citizen_id).await?)
}

fn fhir_answer(doc: &crate::fhir::document::Document) -> ApiResult<Response> {
    let body = serde_json::to_vec(doc).map_err(crate::error::ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/fhir+json")], body).into_response())
}
