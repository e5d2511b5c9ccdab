//! Commune risk levels: the computed level of a unit for a week beside its official level, the steering
//! committee's decisions and their signed PDFs, a unit's figures and capacity checklist.

use super::Body;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorCode, request_lang};
use crate::services::risk::{self as svc, MAX_PDF_BYTES};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemdich_store::{DecisionRecord, FigureRow};
use serde::Deserialize;

#[derive(Deserialize)]
pub struct LevelQuery {
    unit: Option<String>,
    week: Option<String>,
}

/// A unit's computed level for a week (default: the last full week) and its official level.
pub async fn levels(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<LevelQuery>,
) -> ApiResult<Json<svc::RiskLevelView>> {
    let unit = q.unit.unwrap_or_default();
    Ok(Json(
        svc::risk_level(&st, &staff.0, &unit, q.week.as_deref(), request_lang()).await?,
    ))
}

/// Every level decided for a unit, newest first.
pub async fn history(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<LevelQuery>,
) -> ApiResult<Json<svc::HistoryView>> {
    let unit = q.unit.unwrap_or_default();
    Ok(Json(svc::history(&st, &staff.0, &unit).await?))
}

/// Records a decision of the province's steering committee.
pub async fn create_decision(
    State(st): State<AppState>,
    staff: Staff,
    Body(raw): Body<svc::RawDecision>,
) -> ApiResult<(StatusCode, Json<DecisionRecord>)> {
    Ok((
        StatusCode::CREATED,
        Json(svc::record_decision(&st, &staff.0, &raw).await?),
    ))
}

/// The decisions of the caller's province, newest first (without their levels).
pub async fn list_decisions(
    State(st): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<DecisionRecord>>> {
    Ok(Json(svc::decisions(&st, &staff.0).await?))
}

/// One decision with its levels.
pub async fn get_decision(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<DecisionRecord>> {
    crate::auth::require_role(&staff.0, svc::READERS)?;
    Ok(Json(svc::decision_in_reach(&st, &staff.0, id).await?))
}

/// Uploads the signed PDF of a decision (`application/pdf`, at most 10 MiB).
pub async fn put_file(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> ApiResult<Json<DecisionRecord>> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if media.split(';').next().map(str::trim) != Some("application/pdf") {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "send the signed decision as application/pdf",
        ));
    }
    let name = headers
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    Ok(Json(
        svc::attach_file(&st, &staff.0, id, name, &body).await?,
    ))
}

/// The signed PDF of a decision.
pub async fn get_file(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    crate::auth::require_role(&staff.0, svc::READERS)?;
    svc::decision_in_reach(&st, &staff.0, id).await?;
    let (name, body) = st
        .store
        .decision_file(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("decision {id} has no signed file")))?;
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{ascii}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// Sets figures of a unit (population, coverage, patients on oxygen, deaths, free beds).
pub async fn put_figures(
    State(st): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Body(raw): Body<svc::RawFigures>,
) -> ApiResult<Json<Vec<FigureRow>>> {
    Ok(Json(svc::put_figures(&st, &staff.0, &code, &raw).await?))
}

/// Records a unit's treatment-capacity checklist for a week.
pub async fn put_checklist(
    State(st): State<AppState>,
    staff: Staff,
    Path(code): Path<String>,
    Body(raw): Body<svc::RawChecklist>,
) -> ApiResult<Json<svc::ChecklistView>> {
    Ok(Json(svc::put_checklist(&st, &staff.0, &code, &raw).await?))
}

/// The largest body of any request: the signed PDF upload.
pub const MAX_UPLOAD_BYTES: usize = MAX_PDF_BYTES;
