//! Samples, pools and results: ordering a sample, a person's or the jurisdiction's samples, pooling, entering
//! a result with its effects, and the signed-in resident's own samples.

use super::Body;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiResult, request_lang};
use crate::services::testing::{self as svc, Entered, MySample, PoolCreated, SampleCreated};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemdich_store::{Effects, SampleRecord};

/// Orders a sample: 201 `{id, label, status}`.
pub async fn order(
    State(st): State<AppState>,
    staff: Staff,
    Body(input): Body<svc::SampleInput>,
) -> ApiResult<(StatusCode, Json<SampleCreated>)> {
    let created = svc::order_sample(&st, &staff.0, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// A person's samples, or the jurisdiction's in one status.
pub async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<svc::SampleQuery>,
) -> ApiResult<Json<Vec<SampleRecord>>> {
    Ok(Json(svc::samples(&st, &staff.0, &q).await?))
}

/// Pools samples: 201 `{id, label}`.
pub async fn pool(
    State(st): State<AppState>,
    staff: Staff,
    Body(input): Body<svc::PoolInput>,
) -> ApiResult<(StatusCode, Json<PoolCreated>)> {
    let created = svc::create_pool(&st, &staff.0, &input).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Enters a result: 201 with its effects, 200 the same result again.
pub async fn result(
    State(st): State<AppState>,
    staff: Staff,
    Body(input): Body<svc::ResultInput>,
) -> ApiResult<(StatusCode, Json<Effects>)> {
    Ok(match svc::enter_result(&st, &staff.0, &input).await? {
        Entered::Created(e) => (StatusCode::CREATED, Json(e)),
        Entered::Unchanged(e) => (StatusCode::OK, Json(e)),
    })
}

/// The signed-in resident's own samples and results.
pub async fn mine(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Vec<MySample>>> {
    Ok(Json(svc::my_samples(&st, &staff.0, request_lang()).await?))
}

/// `GET /api/v1/samples/{id}/label.png`: the QR of the sample's label.
pub async fn label_png(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Response> {
    let png = svc::label_png(&st, &staff.0, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        png,
    )
        .into_response())
}
