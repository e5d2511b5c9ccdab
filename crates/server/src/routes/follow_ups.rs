//! Daily follow-up of people in isolation or quarantine, for commune officers and health officers of their
//! jurisdiction: who is due today, and what each check found (including calls to people without smartphones).

use super::Body;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::services::officer::{self, FOLLOWERS};
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use kiemdich_domain::{FieldErrors, FollowUpChannel, FollowUpOutcome};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct DayQuery {
    pub day: Option<String>,
}

fn day_or_today(st: &AppState, day: Option<&str>) -> ApiResult<NaiveDate> {
    let dates = st.rules.dates_at(chrono::Utc::now().timestamp());
    match day {
        None => Ok(dates.today),
        Some(d) => dates
            .parse(d, kiemdich_domain::DateBounds::past)
            .map_err(|e| ApiError::field("day", e)),
    }
}

/// Who is due for a check on a day (default today) in the caller's jurisdiction, and what was recorded. Audited.
pub async fn list(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<DayQuery>,
) -> ApiResult<Json<officer::FollowUpList>> {
    let day = day_or_today(&st, q.day.as_deref())?;
    Ok(Json(officer::follow_ups(&st, &staff.0, day).await?))
}

#[derive(Deserialize)]
pub struct Record {
    case_id: i64,
    day: Option<String>,
    outcome: String,
    channel: String,
    #[serde(default)]
    note: String,
}

/// A check as recorded.
#[derive(Serialize)]
pub struct Recorded {
    case_id: i64,
    day: NaiveDate,
    outcome: FollowUpOutcome,
    channel: FollowUpChannel,
}

/// Records the day's check on a case; recording again the same day corrects it.
pub async fn record(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<Record>,
) -> ApiResult<(StatusCode, Json<Recorded>)> {
    let who = staff.require(FOLLOWERS)?;
    let mut errs = FieldErrors::default();
    let outcome = errs.check("outcome", FollowUpOutcome::parse(&req.outcome));
    let channel = errs.check("channel", FollowUpChannel::parse(&req.channel));
    let note = match req.note.trim() {
        "" => String::new(),
        n => errs
            .check("note", kiemdich_domain::clean_text(n, 500))
            .unwrap_or_default(),
    };
    let (Some(outcome), Some(channel)) = (outcome, channel) else {
        return Err(ApiError::invalid(errs));
    };
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    let day = day_or_today(&st, req.day.as_deref())?;
    let unknown = || ApiError::field("case_id", format!("no case {}", req.case_id));
    let case = st
        .store
        .case(req.case_id)
        .await?
        .filter(|c| st.reaches(who, c.commune_code.as_str()))
        .ok_or_else(unknown)?;
    if !case.active {
        return Err(ApiError::field(
            "case_id",
            format!("case {} has ended", case.id),
        ));
    }
    st.store
        .record_follow_up(case.id, day, outcome, channel, &note, &who.actor)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(Recorded {
            case_id: case.id,
            day,
            outcome,
            channel,
        }),
    ))
}
