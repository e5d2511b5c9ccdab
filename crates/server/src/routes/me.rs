//! The resident's own side: signing in with a one-time code, their own data, passes and visits, and checking in
//! at a venue by scanning its poster.

use super::declarations::{OtpAnswer, check_otp};
use super::locations::{ScanMeta, check_idempotency_key, decide, fingerprint, record};
use super::{Body, admin::start_session};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::services::resident;
use crate::throttle::ClientAddr;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use kiemdich_domain::{CitizenId, Direction, ScanMethod};
use kiemdich_store::{Principal, SessionOf};
use serde::Deserialize;

/// A resident session lasts two hours: long enough to declare for a family, short on a shared phone.
const RESIDENT_SESSION_SECS: i64 = 2 * 3600;
/// On a device the resident chooses to remember (their own phone), 30 days; signing out ends it at once.
const REMEMBERED_SESSION_SECS: i64 = 30 * 86_400;

/// The answer to a one-time code, and whether to remember this device.
#[derive(Deserialize)]
pub struct ResidentSignIn {
    #[serde(flatten)]
    answer: OtpAnswer,
    #[serde(default)]
    remember: bool,
}

/// Signs a resident in with the one-time code sent to the registry phone; the code is used up.
pub async fn sign_in(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Body(req): Body<ResidentSignIn>,
) -> ApiResult<Response> {
    let (challenge, id) = check_otp(&st, &req.answer, addr).await?;
    let record = st
        .store
        .resident(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{id} is no longer in the registry")))?;
    let who = SessionOf::Resident {
        citizen_id: id.to_string(),
        otp_challenge: challenge,
    };
    let secs = if req.remember {
        REMEMBERED_SESSION_SECS
    } else {
        RESIDENT_SESSION_SECS
    };
    start_session(&st, &who, &record.commune_code, secs).await
}

fn resident_of(staff: &Staff) -> ApiResult<(&Principal, CitizenId)> {
    Ok((&staff.0, resident::resident_of(&staff.0)?))
}

/// Everything the system holds on the signed-in resident: registry data, newest pass, household passes, an
/// active case, visits, notices. Audited.
pub async fn me(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<resident::MyRecord>> {
    Ok(Json(resident::my_record(&st, &staff.0).await?))
}

/// Ends every session of the signed-in resident, on every device (this one too).
pub async fn sign_out_everywhere(State(st): State<AppState>, staff: Staff) -> ApiResult<Response> {
    let (_, id) = resident_of(&staff)?;
    let ended = st.store.revoke_resident_sessions(id.as_str()).await?;
    super::admin::forget(&st, &ended);
    Ok((
        [(
            axum::http::header::SET_COOKIE,
            crate::auth::session_cookie(None, 0),
        )],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct CheckIn {
    /// The code on the venue's poster (`KDV1:…`).
    code: String,
    #[serde(default = "default_direction")]
    direction: String,
    idempotency_key: String,
}

fn default_direction() -> String {
    "in".into()
}

/// A resident checks in (or out) at a venue by scanning its poster: their newest pass decides admission, as at
/// a staffed door, and the event is recorded as a self check-in.
pub async fn check_in(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<CheckIn>,
) -> ApiResult<(StatusCode, Json<super::locations::ScanAnswer>)> {
    let (who, id) = resident_of(&staff)?;
    let location = st
        .verifier()
        .verify_venue(&req.code)
        .map_err(|e| ApiError::field("code", e))?;
    let place = st
        .location(location)
        .await?
        .ok_or_else(|| ApiError::field("code", format!("location {location} no longer exists")))?;
    let direction =
        Direction::parse(&req.direction).map_err(|e| ApiError::field("direction", e))?;
    let pass = st
        .store
        .latest_pass(id.as_str())
        .await?
        .ok_or_else(|| ApiError::field("pass", "you have no pass yet; declare first"))?;
    let outcome = decide(&st, &place, &pass.token).await?;
    let meta = ScanMeta {
        direction,
        at: Utc::now().timestamp(),
        device: who.actor.clone(),
        method: ScanMethod::SelfCheckin,
        idempotency_key: check_idempotency_key(&req.idempotency_key)?,
        request_hash: fingerprint(&[&place.id.to_string(), "self", direction.as_str()]),
    };
    let (code, Json(mut answer)) = record(&st, &place, outcome, meta).await?;
    answer.location = Some(place.name);
    Ok((code, Json(answer)))
}
