//! What a venue owner sees of their venues: admitted entries per hour of a local day, counts only, never who.

use crate::AppState;
use crate::auth::require_role;
use crate::error::ApiResult;
use chrono::NaiveDate;
use kiemdich_domain::Instant;
use kiemdich_store::{Principal, Role};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HourlyCounts {
    pub location_id: i64,
    pub date: NaiveDate,
    pub hours: Vec<HourCount>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HourCount {
    /// The start of the hour.
    pub hour: Instant,
    pub entries: i64,
}

/// Admitted entries per hour at a location the caller may see, on a local day (default today).
pub async fn hourly_counts(
    st: &AppState,
    who: &Principal,
    id: i64,
    day: Option<NaiveDate>,
) -> ApiResult<HourlyCounts> {
    require_role(
        who,
        &[Role::Venue, Role::Officer, Role::Health, Role::Admin],
    )?;
    crate::routes::locations::location_in_reach(st, who, id).await?;
    let day = day.unwrap_or_else(|| st.rules.tracing.local_date(chrono::Utc::now().timestamp()));
    // The local day, in the rules' time zone: venue owners count their own hours.
    let from = st.rules.tracing.day_start(day);
    let counts = st.store.hourly_entries(id, from, from + 86_400).await?;
    Ok(HourlyCounts {
        location_id: id,
        date: day,
        hours: counts
            .iter()
            .map(|&(h, n)| HourCount {
                hour: Instant(h),
                entries: n,
            })
            .collect(),
    })
}
