//! Vaccination records: a person's doses (staff inside their jurisdiction, audited), recording one dose, and
//! the signed-in resident's own doses.

use super::Body;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiResult, request_lang};
use crate::services::vaccination::{self as svc, DoseView, Recorded};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// A person's doses, oldest first: `[{product, dose_number, series_doses, date, lot, site, country, …}]`.
pub async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
) -> ApiResult<Json<Vec<DoseView>>> {
    Ok(Json(
        svc::doses_of(&st, &staff.0, &citizen_id, request_lang()).await?,
    ))
}

/// Records one dose: 201 new, 200 the same dose again, 409 another dose stored for that product and day.
pub async fn record(
    State(st): State<AppState>,
    staff: Staff,
    Path(citizen_id): Path<String>,
    Body(input): Body<svc::DoseInput>,
) -> ApiResult<(StatusCode, Json<DoseView>)> {
    let (done, view) = svc::record_dose(&st, &staff.0, &citizen_id, &input, request_lang()).await?;
    let status = match done {
        Recorded::Created => StatusCode::CREATED,
        Recorded::Unchanged => StatusCode::OK,
    };
    Ok((status, Json(view)))
}

/// The signed-in resident's own doses.
pub async fn mine(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Vec<DoseView>>> {
    Ok(Json(svc::my_doses(&st, &staff.0, request_lang()).await?))
}
