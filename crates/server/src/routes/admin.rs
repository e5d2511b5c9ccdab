//! Administration: staff accounts, API tokens for devices and integrations, and the development outbox.

use super::Body;
use crate::AppState;
use crate::auth::{
    Staff, hash_password, new_token, request_token, session_cookie, token_hash, verify_password,
};
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemdich_domain::{UnitCode, UnitLevel};
use kiemdich_store::{
    DeviceSummary, OutboxMessage, Principal, Role, SessionOf, StaffSummary, keyring,
};
use serde::Deserialize;
use serde_json::{Value, json};

#[derive(Deserialize)]
pub struct NewStaff {
    username: String,
    password: String,
    role: String,
    unit_code: String,
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
    unit_code: String,
    /// Binds a scanning device to one location.
    location_id: Option<i64>,
}

/// Parses role and unit, and refuses units outside the admin's own jurisdiction.
fn grant(st: &AppState, admin: &Principal, role: &str, unit: &str) -> ApiResult<(Role, UnitCode)> {
    let role = Role::parse_grantable(role).map_err(|e| ApiError::field("role", e))?;

    let unit = UnitCode::parse(unit).map_err(|e| ApiError::field("unit_code", e))?;
    if st.units().get(&unit).is_none() {
        return Err(ApiError::field(
            "unit_code",
            format!("{unit} is not a known unit"),
        ));
    }
    st.check_jurisdiction(admin, &unit)?;
    Ok((role, unit))
}

pub async fn create_staff(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<NewStaff>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let admin = staff.require(&[Role::Admin])?;
    let (role, unit) = grant(&st, admin, &req.role, &req.unit_code)?;
    let username = req.username.trim();
    if username.len() < 3
        || username.len() > 64
        || !username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(ApiError::field(
            "username",
            "3 to 64 letters, digits, dots, dashes or underscores",
        ));
    }
    let hash = hash_password(&req.password).map_err(|e| ApiError::field("password", e))?;
    let id = st.store.create_staff(username, &hash, role, &unit).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": id, "username": username, "role": role, "unit_code": unit})),
    ))
}

/// Creates a token; it is shown in this answer only and stored as a hash.
pub async fn create_token(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let admin = staff.require(&[Role::Admin])?;
    let (role, unit) = grant(&st, admin, &req.role, &req.unit_code)?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::field("name", "1 to 100 characters"));
    }
    if let Some(id) = req.location_id {
        let place = st
            .store
            .location(id)
            .await?
            .ok_or_else(|| ApiError::field("location_id", format!("no location {id}")))?;
        st.check_jurisdiction(
            admin,
            &UnitCode::parse(&place.commune_code).map_err(ApiError::internal)?,
        )?;
    }
    let token = new_token();
    let id = st
        .store
        .create_token(
            &token_hash(&token),
            name,
            role,
            &unit,
            None,
            req.location_id,
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({"id": id, "token": token, "role": role, "unit_code": unit, "location_id": req.location_id}),
        ),
    ))
}

/// Messages the development sender logged instead of sending, newest first.
pub async fn outbox(
    State(st): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<OutboxMessage>>> {
    let admin = staff.require(&[Role::Admin])?;
    st.store
        .audit(&admin.actor, "outbox.read", "outbox", "")
        .await?;
    Ok(Json(st.store.outbox(200).await?))
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

/// How long a login session lasts: one working shift.
const SESSION_SECS: i64 = 12 * 3600;

/// Exchanges a staff member's password for a session with the account's role and jurisdiction: the token in
/// the answer (for API clients) and a session cookie (for the pages).
pub async fn login(State(st): State<AppState>, Body(req): Body<Login>) -> ApiResult<Response> {
    let account = st.store.staff_by_username(req.username.trim()).await?;
    let Some(account) = account.filter(|a| verify_password(&req.password, &a.password_hash)) else {
        return Err(ApiError::unauthorized("unknown username or wrong password"));
    };
    let p = &account.principal;
    let who = SessionOf::Staff {
        id: account.id,
        username: account.username.clone(),
        role: p.role,
    };
    start_session(&st, &who, &p.unit, SESSION_SECS).await
}

/// Creates a session and answers with its token, role and unit, setting the session cookie.
pub(crate) async fn start_session(
    st: &AppState,
    who: &SessionOf,
    unit: &UnitCode,
    secs: i64,
) -> ApiResult<Response> {
    let token = new_token();
    let expires = chrono::Utc::now().timestamp() + secs;
    st.store
        .create_session(&token_hash(&token), who, unit, expires)
        .await?;
    let role = match who {
        SessionOf::Staff { role, .. } => *role,
        SessionOf::Resident { .. } => Role::Resident,
    };
    let body = json!({"token": token, "role": role, "unit_code": unit, "expires_at": super::rfc3339(expires)});
    Ok((
        [(header::SET_COOKIE, session_cookie(Some(&token), secs))],
        Json(body),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct DeviceSignIn {
    token: String,
}

/// How long a scanning device's browser keeps its token as a cookie; revoking the token ends it sooner.
const DEVICE_COOKIE_SECS: i64 = 365 * 86_400;

/// Puts a device token into the browser's session cookie, so the scanner page of a shared phone or tablet
/// works without a personal account.
pub async fn device_sign_in(
    State(st): State<AppState>,
    Body(req): Body<DeviceSignIn>,
) -> ApiResult<Response> {
    let token = req.token.trim();
    let p = st
        .store
        .principal_by_token_hash(&token_hash(token))
        .await?
        .filter(|p| p.role == Role::Checkpoint)
        .ok_or_else(|| ApiError::unauthorized("unknown or revoked device token"))?;
    st.store
        .audit(&p.actor, "device.sign_in", &p.actor, "")
        .await?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(Some(token), DEVICE_COOKIE_SECS),
        )],
        Json(json!({"role": p.role, "unit_code": p.unit, "location_id": p.location_id})),
    )
        .into_response())
}

/// Ends the caller's session (the token or cookie it came with) and clears the cookie.
pub async fn logout(State(st): State<AppState>, headers: HeaderMap) -> ApiResult<Response> {
    if let Some(token) = request_token(&headers)? {
        let hash = token_hash(&token);
        st.store.revoke_token(&hash).await?;
        st.principals.forget(&hash);
    }
    Ok((
        [(header::SET_COOKIE, session_cookie(None, 0))],
        StatusCode::NO_CONTENT,
    )
        .into_response())
}

/// Staff accounts inside the administrator's jurisdiction.
pub async fn list_staff(
    State(st): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<StaffSummary>>> {
    let admin = staff.require(&[Role::Admin])?;
    Ok(Json(
        st.store.staff_in(&st.units_within(&admin.unit)).await?,
    ))
}

/// Device and integration tokens inside the administrator's jurisdiction (never the tokens themselves).
pub async fn list_devices(
    State(st): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<Vec<DeviceSummary>>> {
    let admin = staff.require(&[Role::Admin])?;
    let units = st.units_within(&admin.unit);
    let mut devices = st.store.devices().await?;
    devices.retain(|d| units.contains(&d.unit_code));
    Ok(Json(devices))
}

/// Rotates the signing key: a new key signs from now on, the old one verifies for one more pass lifetime.
pub async fn rotate_key(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Value>> {
    let admin = staff.require(&[Role::Admin])?;
    if admin.unit.level() != UnitLevel::Province {
        return Err(ApiError::forbidden(
            "only a province administrator may rotate the province's signing key",
        ));
    }
    let overlap = i64::from(st.rules.pass_validity_hours) * 3600;
    let key = keyring::rotate(&st.store, &st.data_dir, overlap).await?;
    st.store
        .audit(
            &admin.actor,
            "key.rotate",
            &format!("key:{}", key.kid()),
            "",
        )
        .await?;
    st.refresh().await.map_err(ApiError::internal)?;
    Ok(Json(json!({"kid": key.kid().to_base64url()})))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    /// What was touched: `citizen:ID`, `location:ID`, `declaration:ID`, `unit:CODE`, `staff:ID`, `token:ID`.
    subject: String,
    limit: Option<i64>,
}

/// Who read or changed what about a subject, newest first (admin; this read is audited too).
pub async fn audit(
    State(st): State<AppState>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let admin = staff.require(&[Role::Admin])?;
    let subject = q.subject.trim();
    if subject.is_empty() || subject.len() > 100 {
        return Err(ApiError::field(
            "subject",
            "1 to 100 characters, e.g. citizen:094090123456",
        ));
    }
    let entries = st
        .store
        .audit_entries(subject, q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    st.store
        .audit(&admin.actor, "audit.read", subject, "")
        .await?;
    let entries: Vec<Value> = entries
        .iter()
        .map(|e| json!({"at": super::rfc3339(e.at), "actor": e.actor, "action": e.action, "subject": e.subject, "detail": e.detail}))
        .collect();
    Ok(Json(json!({"subject": subject, "entries": entries})))
}
