//! Proximity tracing (GAEN): verification codes for confirmed cases, the phones' key uploads, the signed export
//! batches and the key that verifies them, and the per-unit daily counts.

use super::Body;
use crate::AppState;
use crate::auth::Staff;
use crate::error::ApiResult;
use crate::services::proximity::{self as svc, Accepted, Batches, Counts, IssuedCode};
use crate::throttle::ClientAddr;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Issues a one-time code for a confirmed case: 201 `{code, expires_at}`.
pub async fn issue_code(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<svc::CodeRequest>,
) -> ApiResult<(StatusCode, Json<IssuedCode>)> {
    let issued = svc::issue_code(&st, &staff.0, req).await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// A phone's keys with its code and consent: 201 `{accepted}`.
pub async fn upload(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Body(req): Body<svc::KeyUpload>,
) -> ApiResult<(StatusCode, Json<Accepted>)> {
    let accepted = svc::upload(&st, addr, req).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

/// The published batches.
pub async fn exports(State(st): State<AppState>) -> ApiResult<Json<Batches>> {
    Ok(Json(svc::batches(&st).await?))
}

/// One batch's zip (`export.bin` + `export.sig`).
pub async fn export(State(st): State<AppState>, Path(id): Path<i64>) -> ApiResult<Response> {
    let body = svc::batch(&st, id).await?;
    let name = format!("attachment; filename=\"kiemdich-export-{id}.zip\"");
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

/// The PEM public key that verifies `export.sig`.
pub async fn export_key(State(st): State<AppState>) -> ApiResult<Response> {
    let pem = svc::export_key_pem(&st).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-pem-file")], pem).into_response())
}

/// Codes issued and keys received per unit and day, inside the caller's jurisdiction.
pub async fn counts(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Counts>> {
    Ok(Json(svc::counts(&st, &staff.0).await?))
}
