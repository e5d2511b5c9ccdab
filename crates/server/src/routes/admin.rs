//! Administration: staff accounts, API tokens for devices and integrations, and the development outbox.

use super::Body;
use crate::AppState;
use crate::auth::{
    Staff, hash_password, new_token, request_token, session_cookie, token_hash, verify_password,
};
use crate::error::{ApiError, ApiResult};
use crate::throttle::ClientAddr;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemdich_domain::catalogue::ApiText;
use kiemdich_domain::{CitizenId, Instant, OutboxChannel, Phone, UnitCode, UnitLevel};
use kiemdich_store::{
    AuditEntry, DeviceSummary, OutboxMessage, Principal, Role, SessionOf, StaffSummary, keyring,
};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct NewStaff {
    username: String,
    password: String,
    role: String,
    unit_code: String,
}

#[derive(Deserialize)]
pub struct NewPassword {
    password: String,
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

/// A staff account just created.
#[derive(Serialize)]
pub struct StaffCreated {
    id: i64,
    username: String,
    role: Role,
    unit_code: UnitCode,
}

pub async fn create_staff(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<NewStaff>,
) -> ApiResult<(StatusCode, Json<StaffCreated>)> {
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
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::field("password", e))?;
    let id = st.store.create_staff(username, &hash, role, &unit).await?;
    Ok((
        StatusCode::CREATED,
        Json(StaffCreated {
            id,
            username: username.to_owned(),
            role,
            unit_code: unit,
        }),
    ))
}

/// A token just created: the only answer that ever shows it. A scanning device's also carries the scanner
/// page's address with the token in its fragment, and that address as a QR the phone reads (null otherwise).
#[derive(Serialize)]
pub struct TokenCreated {
    id: i64,
    token: String,
    role: Role,
    unit_code: UnitCode,
    location_id: Option<i64>,
    enrol_url: Option<String>,
    enrol_qr_svg: Option<String>,
}

/// Creates a token; it is shown in this answer only and stored as a hash.
pub async fn create_token(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<NewToken>,
) -> ApiResult<(StatusCode, Json<TokenCreated>)> {
    let admin = staff.require(&[Role::Admin])?;
    let (role, unit) = grant(&st, admin, &req.role, &req.unit_code)?;
    let name =
        kiemdich_domain::clean_text(&req.name, 100).map_err(|e| ApiError::field("name", e))?;
    let name = name.as_str();
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
    // A scanning device is enrolled by reading a QR of the scanner page's address with the token in the
    // fragment, which browsers never send to a server, so it is in no access log.
    let (enrol_url, enrol_qr_svg) = if role == Role::Checkpoint {
        let origin = st.public_url().map_or("", |u| u.origin());
        let url = format!("{origin}/scan#device={token}");
        let svg = tokio::task::spawn_blocking({
            let url = url.clone();
            move || crate::qr::svg(&url)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        (Some(url), Some(svg))
    } else {
        (None, None)
    };
    Ok((
        StatusCode::CREATED,
        Json(TokenCreated {
            id,
            token,
            role,
            unit_code: unit,
            location_id: req.location_id,
            enrol_url,
            enrol_qr_svg,
        }),
    ))
}

/// A staff account inside the administrator's jurisdiction; one outside it answers 404 like an unknown id.
async fn staff_in_reach(st: &AppState, admin: &Principal, id: i64) -> ApiResult<StaffSummary> {
    let what = format!("no staff account {id}");
    st.in_reach_or_404(
        admin,
        st.store.staff_by_id(id).await?,
        |a| a.unit_code.as_str(),
        what,
    )
}

/// What became of a staff account: disabling and enabling say whether it is now disabled, disabling and a
/// new password how many live sessions ended.
#[derive(Serialize)]
pub struct StaffChanged {
    id: i64,
    username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sessions_revoked: Option<usize>,
}

/// Forgets revoked tokens on this server at once (other servers stop within the principal cache's TTL).
pub(crate) fn forget(st: &AppState, hashes: &[String]) {
    for h in hashes {
        st.principals.forget(h);
    }
}

/// Disables a staff account inside the administrator's jurisdiction: it can no longer sign in (the answer
/// is that of a wrong password) and its live sessions end at once. Audited.
pub async fn disable_staff(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<StaffChanged>> {
    let admin = staff.require(&[Role::Admin])?;
    let account = staff_in_reach(&st, admin, id).await?;
    if admin.actor == format!("staff:{id}") {
        return Err(
            ApiError::conflict("an administrator cannot disable their own account")
                .saying(ApiText::OwnAccount, &[]),
        );
    }
    let revoked = st.store.set_staff_disabled(id, true, &admin.actor).await?;
    forget(&st, &revoked);
    Ok(Json(StaffChanged {
        id,
        username: account.username,
        disabled: Some(true),
        sessions_revoked: Some(revoked.len()),
    }))
}

/// Enables a disabled staff account again (it signs in with its password). Audited.
pub async fn enable_staff(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<StaffChanged>> {
    let admin = staff.require(&[Role::Admin])?;
    let account = staff_in_reach(&st, admin, id).await?;
    st.store.set_staff_disabled(id, false, &admin.actor).await?;
    Ok(Json(StaffChanged {
        id,
        username: account.username,
        disabled: Some(false),
        sessions_revoked: None,
    }))
}

/// Sets a new password for a staff account inside the administrator's jurisdiction (at least 10
/// characters, hashed off the async workers) and ends the account's live sessions. Audited.
pub async fn reset_password(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Body(req): Body<NewPassword>,
) -> ApiResult<Json<StaffChanged>> {
    let admin = staff.require(&[Role::Admin])?;
    let account = staff_in_reach(&st, admin, id).await?;
    let password = req.password;
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError::field("password", e))?;
    let revoked = st.store.set_staff_password(id, &hash, &admin.actor).await?;
    forget(&st, &revoked);
    Ok(Json(StaffChanged {
        id,
        username: account.username,
        disabled: None,
        sessions_revoked: Some(revoked.len()),
    }))
}

/// A device token revoked, and how many tokens (its browser sessions included) stopped with it.
#[derive(Serialize)]
pub struct DeviceRevoked {
    id: i64,
    revoked: bool,
    tokens_revoked: usize,
}

/// Revokes a device or integration token inside the administrator's jurisdiction (by its id, as
/// `GET /api/v1/devices` lists it) and the browser sessions signed in with it. Audited.
pub async fn revoke_device(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeviceRevoked>> {
    let admin = staff.require(&[Role::Admin])?;
    let what = format!("no device token {id}");
    st.in_reach_or_404(
        admin,
        st.store.device(id).await?,
        |d| d.unit_code.as_str(),
        what,
    )?;
    let revoked = st.store.revoke_device(id, &admin.actor).await?;
    forget(&st, &revoked);
    Ok(Json(DeviceRevoked {
        id,
        revoked: true,
        tokens_revoked: revoked.len(),
    }))
}

/// One outbox message as an administrator sees it: phone numbers masked, one-time codes never shown.
#[derive(Serialize)]
pub struct OutboxView {
    id: i64,
    channel: OutboxChannel,
    recipient: String,
    body: String,
    created_at: Instant,
    unit_code: String,
}

impl OutboxView {
    fn of(m: OutboxMessage) -> OutboxView {
        let recipient = match m.channel {
            OutboxChannel::Sms => {
                Phone::parse(&m.recipient).map_or_else(|_| "***".into(), |p| p.masked())
            }
            OutboxChannel::App | OutboxChannel::Commune => m.recipient,
        };
        let body = if m.secret {
            "(one-time code, not shown)".into()
        } else {
            m.body
        };
        OutboxView {
            id: m.id,
            channel: m.channel,
            recipient,
            body,
            created_at: Instant(m.created_at),
            unit_code: m.unit_code,
        }
    }
}

/// Messages to people and units inside the administrator's jurisdiction, newest first (the development
/// sender logs them instead of sending). The read is audited.
pub async fn outbox(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Vec<OutboxView>>> {
    let admin = staff.require(&[Role::Admin])?;
    let messages = st.store.outbox(&st.units_within(&admin.unit), 200).await?;
    st.store
        .audit(
            &admin.actor,
            "outbox.read",
            &format!("unit:{}", admin.unit),
            &format!("{} messages", messages.len()),
        )
        .await?;
    Ok(Json(messages.into_iter().map(OutboxView::of).collect()))
}

#[derive(Deserialize)]
pub struct Login {
    username: String,
    password: String,
}

/// How long a login session lasts: one working shift.
const SESSION_SECS: i64 = 12 * 3600;

/// A hash of no one's password, checked when the username is unknown so that the answer takes as long as
/// for a known one and tells no one which usernames exist.
static DUMMY_HASH: std::sync::LazyLock<Option<String>> =
    std::sync::LazyLock::new(|| hash_password(&new_token()).ok());

/// Exchanges a staff member's password for a session with the account's role and jurisdiction: the token in
/// the answer (for API clients) and a session cookie (for the pages). Wrong passwords are throttled per
/// account (growing waits) and per address; argon2 runs off the async workers.
pub async fn login(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Body(req): Body<Login>,
) -> ApiResult<Response> {
    let username = req.username.trim().to_owned();
    let key = format!("login:{}", username.to_lowercase());
    st.throttle.check(&key, addr).await?;
    let account = st.store.staff_by_username(&username).await?;
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let password = req.password;
    let verified = tokio::task::spawn_blocking(move || match hash {
        Some(h) => verify_password(&password, &h),
        None => {
            if let Some(h) = DUMMY_HASH.as_deref() {
                std::hint::black_box(verify_password(&password, h));
            }
            false
        }
    })
    .await
    .map_err(ApiError::internal)?;
    // A disabled account answers exactly as a wrong password does.
    let Some(account) = account.filter(|a| verified && !a.disabled) else {
        st.throttle.failed(&key, addr).await?;
        return Err(ApiError::unauthorized("unknown username or wrong password")
            .saying(ApiText::WrongLogin, &[]));
    };
    st.throttle.succeeded(&key).await?;
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
    let role = match who {
        SessionOf::Staff { role, .. } => *role,
        SessionOf::Resident { .. } => Role::Resident,
        SessionOf::Device { .. } => Role::Checkpoint,
    };
    let (token, expires) = new_session(st, who, unit, secs).await?;
    let cookie = session_cookie(Some(&token), secs);
    let body = SessionStarted {
        token,
        role,
        unit_code: unit.clone(),
        expires_at: Instant(expires),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(body)).into_response())
}

/// A session just started: its token (also set as the session cookie), who it acts as and until when.
#[derive(Serialize)]
pub struct SessionStarted {
    token: String,
    role: Role,
    unit_code: UnitCode,
    expires_at: Instant,
}

/// Creates a session; returns its token and when it expires.
async fn new_session(
    st: &AppState,
    who: &SessionOf,
    unit: &UnitCode,
    secs: i64,
) -> ApiResult<(String, i64)> {
    let token = new_token();
    let expires = chrono::Utc::now().timestamp() + secs;
    st.store
        .create_session(&token_hash(&token), who, unit, expires)
        .await?;
    Ok((token, expires))
}

#[derive(Deserialize)]
pub struct DeviceSignIn {
    token: String,
}

/// How long a scanning device's browser session lasts; revoking the device token ends it sooner.
const DEVICE_SESSION_SECS: i64 = 30 * 86_400;

/// Signs a scanning device's browser in with the device token: the browser gets a session of its own (the
/// long-lived token never goes into a cookie), so the scanner page of a shared phone or tablet works without
/// a personal account, and revoking the device token ends the session too.
pub async fn device_sign_in(
    State(st): State<AppState>,
    Body(req): Body<DeviceSignIn>,
) -> ApiResult<Response> {
    let hash = token_hash(req.token.trim());
    let p = st
        .store
        .principal_by_token_hash(&hash)
        .await?
        .filter(|p| p.role == Role::Checkpoint && p.citizen_id.is_none())
        .ok_or_else(|| {
            ApiError::unauthorized("unknown or revoked device token")
                .saying(ApiText::UnknownDevice, &[])
        })?;
    st.store
        .audit(&p.actor, "device.sign_in", &p.actor, "")
        .await?;
    let who = SessionOf::Device { token_hash: hash };
    let (session, _) = new_session(&st, &who, &p.unit, DEVICE_SESSION_SECS).await?;
    Ok((
        [(
            header::SET_COOKIE,
            session_cookie(Some(&session), DEVICE_SESSION_SECS),
        )],
        Json(DeviceSession {
            role: p.role,
            unit_code: p.unit,
            location_id: p.location_id,
        }),
    )
        .into_response())
}

/// A scanning device's browser signed in: its role, unit and the location it is bound to, if any (the
/// session token goes into the cookie only).
#[derive(Serialize)]
pub struct DeviceSession {
    role: Role,
    unit_code: UnitCode,
    location_id: Option<i64>,
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
    Ok(Json(
        st.store.devices_in(&st.units_within(&admin.unit)).await?,
    ))
}

/// The key that signs from now on, by its key id.
#[derive(Serialize)]
pub struct KeyRotated {
    kid: String,
}

/// Rotates the signing key: a new key signs from now on, the old one verifies for one more pass lifetime.
pub async fn rotate_key(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<KeyRotated>> {
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
    Ok(Json(KeyRotated {
        kid: key.kid().to_base64url(),
    }))
}

#[derive(Deserialize)]
pub struct AuditQuery {
    /// What was touched: `citizen:ID`, `location:ID`, `declaration:ID`, `case:ID`, `unit:CODE`, `staff:ID`,
    /// `token:ID`.
    subject: String,
    limit: Option<i64>,
}

/// Whether a subject of the audit log lies inside the administrator's jurisdiction: a person by their home
/// commune, a place, case or declaration by its commune(s), an account or device by its unit. Subjects of the
/// whole province (keys, retention) only for a province administrator.
async fn audit_subject_in_reach(
    st: &AppState,
    admin: &Principal,
    subject: &str,
) -> ApiResult<bool> {
    let (kind, id) = subject.split_once(':').unwrap_or((subject, ""));
    let number = || id.parse::<i64>().ok();
    let units: Vec<String> = match kind {
        "citizen" => match CitizenId::parse(id) {
            Ok(c) => match st.store.resident(&c).await? {
                Some(r) => vec![r.commune_code.to_string()],
                None => st.store.case_communes(c.as_str()).await?,
            },
            Err(_) => Vec::new(),
        },
        "case" => match number() {
            Some(n) => st
                .store
                .case(n)
                .await?
                .map(|c| c.commune_code.to_string())
                .into_iter()
                .collect(),
            None => Vec::new(),
        },
        "location" => match number() {
            Some(n) => st
                .location(n)
                .await?
                .map(|l| l.commune_code)
                .into_iter()
                .collect(),
            None => Vec::new(),
        },
        "declaration" => match number() {
            Some(n) => {
                let people = st.store.declaration_reach(n).await?;
                let all_in = !people.is_empty()
                    && people.iter().all(|(d, r)| {
                        st.reaches(admin, d) || r.as_deref().is_some_and(|r| st.reaches(admin, r))
                    });
                return Ok(all_in);
            }
            None => Vec::new(),
        },
        "unit" => vec![id.to_owned()],
        "staff" => {
            let mine = st.store.staff_in(&st.units_within(&admin.unit)).await?;
            return Ok(number().is_some_and(|n| mine.iter().any(|s| s.id == n)));
        }
        "token" => {
            let devices = st.store.devices().await?;
            devices
                .into_iter()
                .filter(|d| Some(d.id) == number())
                .map(|d| d.unit_code.to_string())
                .collect()
        }
        _ => return Ok(admin.unit.level() == UnitLevel::Province),
    };
    Ok(!units.is_empty() && units.iter().all(|u| st.reaches(admin, u)))
}

/// The audit trail of one subject, newest first.
#[derive(Serialize)]
pub struct AuditTrail {
    subject: String,
    entries: Vec<AuditLine>,
}

/// One audit entry: when, who, what they did, to what, and any detail.
#[derive(Serialize)]
pub struct AuditLine {
    at: Instant,
    actor: String,
    action: String,
    subject: String,
    detail: String,
}

impl From<AuditEntry> for AuditLine {
    fn from(e: AuditEntry) -> AuditLine {
        AuditLine {
            at: Instant(e.at),
            actor: e.actor,
            action: e.action,
            subject: e.subject,
            detail: e.detail,
        }
    }
}

/// Who read or changed what about a subject, newest first (admin, inside their jurisdiction; a subject
/// outside it answers 404 like an unknown one). This read is audited too.
pub async fn audit(
    State(st): State<AppState>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<AuditQuery>,
) -> ApiResult<Json<AuditTrail>> {
    let admin = staff.require(&[Role::Admin])?;
    let subject = q.subject.trim();
    if subject.is_empty() || subject.len() > 100 {
        return Err(ApiError::field(
            "subject",
            "1 to 100 characters, e.g. citizen:094090123456",
        ));
    }
    if !audit_subject_in_reach(&st, admin, subject).await? {
        return Err(ApiError::not_found(format!(
            "no audit entries for {subject}"
        )));
    }
    let entries = st
        .store
        .audit_entries(subject, q.limit.unwrap_or(100).clamp(1, 1000))
        .await?;
    st.store
        .audit(&admin.actor, "audit.read", subject, "")
        .await?;
    Ok(Json(AuditTrail {
        subject: subject.to_owned(),
        entries: entries.into_iter().map(AuditLine::from).collect(),
    }))
}
