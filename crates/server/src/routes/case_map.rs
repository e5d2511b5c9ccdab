//! The staff map's data: cases per commune and the places linked to cases, clustered for the view.

use super::Params;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::services::case_map::{self, CommuneCases, Mark, View, WindowQuery};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;

/// Cases per commune of the caller's jurisdiction, counted in the range (`from`, `to`: YYYY-MM-DD; the last
/// week by default) and optionally of one class.
pub async fn communes(
    State(st): State<AppState>,
    staff: Staff,
    Params(q): Params<WindowQuery>,
) -> ApiResult<Json<Vec<CommuneCases>>> {
    let window = q
        .parse(&st.rules.dates_at(chrono::Utc::now().timestamp()))
        .map_err(ApiError::invalid)?;
    Ok(Json(case_map::commune_cases(&st, &staff.0, &window).await?))
}

/// The view and the filter (not flattened: query strings carry no types, and flattening loses the numbers').
#[derive(Deserialize)]
pub struct PlacesQuery {
    west: f64,
    south: f64,
    east: f64,
    north: f64,
    zoom: u8,
    from: Option<String>,
    to: Option<String>,
    class: Option<String>,
}

/// Places linked to the jurisdiction's cases in the view, clustered for its zoom (at most a few hundred marks).
pub async fn places(
    State(st): State<AppState>,
    staff: Staff,
    Params(q): Params<PlacesQuery>,
) -> ApiResult<Json<Vec<Mark>>> {
    let window = WindowQuery {
        from: q.from,
        to: q.to,
        class: q.class,
    }
    .parse(&st.rules.dates_at(chrono::Utc::now().timestamp()))
    .map_err(ApiError::invalid)?;
    let view = View {
        west: q.west,
        south: q.south,
        east: q.east,
        north: q.north,
        zoom: q.zoom,
    };
    Ok(Json(
        case_map::linked_places(&st, &staff.0, &window, &view).await?,
    ))
}
