//! The resident's own side: signing in with a one-time code, their own data, passes and visits, and checking in
//! at a venue by scanning its poster.

use super::declarations::{OtpAnswer, check_otp};
use super::locations::{ScanMeta, check_idempotency_key, decide, fingerprint, record};
use super::{Body, admin::start_session, rfc3339};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::throttle::ClientAddr;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::Utc;
use kiemdich_domain::{CitizenId, Direction};
use kiemdich_store::{PresenceEvent, Principal, Role, SessionOf};
use serde::Deserialize;
use serde_json::{Value, json};

/// A resident session lasts two hours: long enough to declare for a family, short on a shared phone.
const RESIDENT_SESSION_SECS: i64 = 2 * 3600;
/// How far back a resident sees their own visits: the presence log keeps no more anyway.
const OWN_VISITS_DAYS: i64 = 28;

/// Signs a resident in with the one-time code sent to the registry phone; the code is used up.
pub async fn sign_in(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Body(answer): Body<OtpAnswer>,
) -> ApiResult<Response> {
    let (challenge, id) = check_otp(&st, &answer, addr).await?;
    let record = st
        .store
        .resident(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{id} is no longer in the registry")))?;
    let who = SessionOf::Resident {
        citizen_id: id.to_string(),
        otp_challenge: challenge,
    };
    start_session(&st, &who, &record.commune_code, RESIDENT_SESSION_SECS).await
}

fn resident_of(staff: &Staff) -> ApiResult<(&Principal, CitizenId)> {
    let who = staff.require(&[Role::Resident])?;
    let id = who
        .citizen_id
        .as_deref()
        .and_then(|c| CitizenId::parse(c).ok())
        .ok_or_else(|| ApiError::internal("resident session without a citizen id"))?;
    Ok((who, id))
}

fn visit_json(e: &PresenceEvent, names: &std::collections::HashMap<i64, String>) -> Value {
    json!({"at": rfc3339(e.at), "location_id": e.location_id, "location": names.get(&e.location_id),
           "direction": e.direction, "decision": e.decision, "reason": e.reason, "method": e.method})
}

/// Everything the system holds on the signed-in resident: registry data, newest pass, visits. Audited.
pub async fn me(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Value>> {
    let (who, id) = resident_of(&staff)?;
    let record = st
        .store
        .resident(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{id} is no longer in the registry")))?;
    let pass = st.store.latest_pass(id.as_str()).await?;
    let notices = st.store.notices_for(id.as_str(), 50).await?;
    let since = Utc::now().timestamp() - OWN_VISITS_DAYS * 86_400;
    let visits = st.store.visits_of(id.as_str(), since, 500).await?;
    let mut names = std::collections::HashMap::new();
    for e in &visits {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(e.location_id)
            && let Some(place) = st.location(e.location_id).await?
        {
            slot.insert(place.name);
        }
    }
    st.store
        .audit(
            &who.actor,
            "resident.self_read",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    let pass = pass.map(|p| {
        let live = p.revoked_at.is_none() && p.expires_at > Utc::now().timestamp();
        json!({"pass_id": p.id, "status": p.status, "issued_at": rfc3339(p.issued_at), "expires_at": rfc3339(p.expires_at),
               "live": live, "revoke_reason": p.revoke_reason})
    });
    Ok(Json(json!({
        "citizen_id": id, "full_name": record.full_name.as_str(), "date_of_birth": record.date_of_birth,
        "sex": record.sex, "phone": record.phone.map(|p| p.masked()), "commune_code": record.commune_code,
        "address": record.address, "pass": pass,
        "visits": visits.iter().map(|e| visit_json(e, &names)).collect::<Vec<_>>(),
        "notices": notices.iter().map(|n| json!({"at": rfc3339(n.created_at), "text": n.body})).collect::<Vec<_>>(),
    })))
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
) -> ApiResult<(StatusCode, Json<Value>)> {
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
        method: "self_checkin",
        idempotency_key: check_idempotency_key(&req.idempotency_key)?,
        request_hash: fingerprint(&[&place.id.to_string(), "self", direction.as_str()]),
    };
    let (code, Json(mut answer)) = record(&st, &place, outcome, meta).await?;
    answer["location"] = json!(place.name);
    Ok((code, Json(answer)))
}
