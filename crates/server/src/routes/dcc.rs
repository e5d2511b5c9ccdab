//! HC1 certificates: a person's (health, admin in jurisdiction), the resident's own, their QR images at error
//! correction Q, and the deployment's published trust list.

use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::qr;
use crate::services::dcc::{self as svc, DccView, PublishedTrust};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// A person's certificate `{hc1, uvci, expires_at}`; 404 without a dose, 503 without a DSC installed.
pub async fn of_resident(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
) -> ApiResult<Json<DccView>> {
    Ok(Json(svc::for_resident(&st, &staff.0, &citizen_id).await?))
}

/// The QR of exactly a person's `hc1`, error correction Q.
pub async fn of_resident_qr(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
) -> ApiResult<Response> {
    qr_png(&svc::for_resident(&st, &staff.0, &citizen_id).await?.hc1)
}

/// The signed-in resident's certificate.
pub async fn mine(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<DccView>> {
    Ok(Json(svc::mine(&st, &staff.0).await?))
}

/// The QR of the signed-in resident's certificate.
pub async fn mine_qr(State(st): State<AppState>, staff: Staff) -> ApiResult<Response> {
    qr_png(&svc::mine(&st, &staff.0).await?.hc1)
}

/// The deployment's DSCs and CSCA (no authentication).
pub async fn trust_list(State(st): State<AppState>) -> ApiResult<Json<PublishedTrust>> {
    Ok(Json(svc::published(&st).await?))
}

/// Every trusted DSC's key for offline verification by scanners (no authentication).
pub async fn verifier_keys(State(st): State<AppState>) -> Json<svc::VerifierKeys> {
    Json(svc::verifier_keys(&st))
}

fn qr_png(hc1: &str) -> ApiResult<Response> {
    let png = qr::png_at(hc1, 4, qr::EcLevel::Q).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        png,
    )
        .into_response())
}
