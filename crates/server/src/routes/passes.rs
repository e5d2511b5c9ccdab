//! Pass verification (online: signature, validity, revocation, current status), QR images, the printable
//! pass card, revocation, and the trust and revocation lists that offline verifiers cache.

use super::Body;
use crate::AppState;
use crate::auth::{MaybeStaff, Staff};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::pages::lang_of;
use crate::pages::print::{self, CardState, CardView, VoidReason};
use crate::qr;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use kiemdich_domain::{CitizenId, HealthStatus, Instant};
use kiemdich_pass::{PassClaims, Reason, Rejection, TrustList};
use kiemdich_store::{Current, PassRecord, Role};
use serde::{Deserialize, Serialize};

#[derive(Deserialize)]
pub struct VerifyRequest {
    token: String,
}

/// Full online check. A signature that verifies is not enough: the pass must be exactly the one on record
/// (a token re-signed with other dates or holder under a genuine key is not it), not revoked or superseded,
/// and the status reported is the current one.
pub(crate) async fn check(
    st: &AppState,
    token: &str,
) -> ApiResult<Result<(PassClaims, PassRecord, Current), Rejection>> {
    let claims = match st.verifier().verify(token.trim(), Utc::now()) {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    let Some((record, current)) = st
        .store
        .pass_with_status(&claims.pass_id.to_string())
        .await?
    else {
        return Ok(Err(Rejection::new(
            Reason::UnknownKey,
            "pass was not issued by this system",
        )));
    };
    if record.token != token.trim() {
        return Ok(Err(Rejection::new(
            Reason::BadClaims,
            "pass differs from the one issued",
        )));
    }
    if let Some(reason) = &record.revoke_reason {
        let r = if reason == "superseded" {
            Reason::Superseded
        } else {
            Reason::Revoked
        };
        return Ok(Err(Rejection::new(r, format!("pass {reason}"))));
    }
    Ok(Ok((claims, record, current)))
}

/// What verifying a token found: the pass and its holder's current status, or why it does not count.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Verified {
    Valid {
        valid: bool,
        reason: &'static str,
        /// The holder's status now, which a case opened since issue changes.
        status: HealthStatus,
        status_at_issue: HealthStatus,
        holder: kiemdich_pass::Holder,
        pass_id: String,
        issued_at: Instant,
        expires_at: Instant,
    },
    Invalid {
        valid: bool,
        reason: &'static str,
        message: String,
        status: Option<HealthStatus>,
    },
}

pub async fn verify(
    State(st): State<AppState>,
    MaybeStaff(who): MaybeStaff,
    Body(req): Body<VerifyRequest>,
) -> ApiResult<Json<Verified>> {
    let answer = match check(&st, &req.token).await? {
        Ok((claims, record, current)) => {
            Metrics::inc(&st.metrics.verifications_valid);
            let actor = who.map_or_else(|| "public".to_owned(), |p| p.actor);
            st.store
                .audit(
                    &actor,
                    "pass.verify",
                    &format!("citizen:{}", record.citizen_id),
                    &record.id,
                )
                .await?;
            Verified::Valid {
                valid: true,
                reason: "valid",
                status: current.status,
                status_at_issue: claims.holder.status,
                holder: claims.holder,
                pass_id: record.id,
                issued_at: Instant(record.issued_at),
                expires_at: Instant(record.expires_at),
            }
        }
        Err(r) => {
            Metrics::inc(&st.metrics.verifications_invalid);
            Verified::Invalid {
                valid: false,
                reason: r.reason.code(),
                message: r.detail,
                status: None,
            }
        }
    };
    Ok(Json(answer))
}

async fn pass_or_404(st: &AppState, id: &str) -> ApiResult<PassRecord> {
    st.store
        .pass(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no pass {id}")))
}

/// The QR of exactly the token string. The pass id is a 128-bit random capability and the QR holds no more
/// than the token itself, so no login is needed (a resident without an account prints from a link).
pub async fn qr_svg(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let pass = pass_or_404(&st, &id).await?;
    let svg = qr::svg(&pass.token).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        svg,
    )
        .into_response())
}

pub async fn qr_png(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Response> {
    let pass = pass_or_404(&st, &id).await?;
    let png = qr::png(&pass.token, 6).map_err(ApiError::internal)?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        png,
    )
        .into_response())
}

/// A printable card for people without phones: the QR and what a checkpoint may see, nothing more. A pass
/// that is revoked, superseded, expired or no longer verifies prints as void, without its QR or colour.
pub async fn card(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Html<String>> {
    let pass = pass_or_404(&st, &id).await?;
    let now = Utc::now();
    let state = match (
        void_on_record(&pass, now.timestamp()),
        st.verifier().verify(&pass.token, now),
    ) {
        (None, Ok(claims)) => CardState::Valid {
            holder: claims.holder,
            qr_svg: qr::svg(&pass.token).map_err(ApiError::internal)?,
        },
        (why, _) => {
            // Who a void pass was for, from its signature as of the day it was issued.
            let issued = chrono::DateTime::from_timestamp(pass.issued_at, 0).unwrap_or(now);
            CardState::Void {
                holder: st
                    .verifier()
                    .verify(&pass.token, issued)
                    .ok()
                    .map(|c| c.holder),
                why: why.unwrap_or(VoidReason::Unverifiable),
            }
        }
    };
    let view = CardView {
        expires: st.rules.clock().time(pass.expires_at),
        pass_id: pass.id,
        state,
    };
    Ok(Html(print::card(lang_of(&headers), &st.authority(), &view)))
}

/// Why the record says a pass is void at Unix time `now`: revoked, replaced by a newer one, or expired.
fn void_on_record(pass: &PassRecord, now: i64) -> Option<VoidReason> {
    match pass.revoke_reason.as_deref() {
        Some("superseded") => Some(VoidReason::Superseded),
        Some(_) => Some(VoidReason::Revoked),
        None if pass.revoked_at.is_some() => Some(VoidReason::Revoked),
        None if pass.expires_at <= now => Some(VoidReason::Expired),
        None => None,
    }
}

#[derive(Deserialize)]
pub struct RevokeRequest {
    reason: String,
}

/// The passes a revocation stopped.
#[derive(Serialize)]
pub struct Revoked {
    revoked: Vec<String>,
}

/// Revokes a pass and every other live pass of its holder at once (an official decision).
pub async fn revoke(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Body(req): Body<RevokeRequest>,
) -> ApiResult<Json<Revoked>> {
    let who = staff.require(&[Role::Officer, Role::Health, Role::Admin])?;
    let reason = kiemdich_domain::clean_text(&req.reason, 200)
        .ok()
        .filter(|r| r != "superseded")
        .ok_or_else(|| {
            ApiError::field(
                "reason",
                "give a reason of 1 to 200 characters (not 'superseded')",
            )
        })?;
    let reason = reason.as_str();
    let pass = pass_or_404(&st, &id).await?;
    let citizen = CitizenId::parse(&pass.citizen_id).map_err(ApiError::internal)?;
    let home = st
        .store
        .resident(&citizen)
        .await?
        .map(|r| r.commune_code)
        .ok_or_else(|| ApiError::not_found(format!("no pass {id}")))?;
    st.in_reach(who, home.as_str(), format!("no pass {id}"))?;
    let revoked = st
        .store
        .revoke_passes_of(&pass.citizen_id, reason, &who.actor)
        .await?;
    Ok(Json(Revoked { revoked }))
}

pub async fn trust_list(State(st): State<AppState>) -> ApiResult<Json<TrustList>> {
    Ok(Json(
        kiemdich_store::keyring::trust_list(&st.store, &st.issuer).await?,
    ))
}

#[derive(Deserialize)]
pub struct Since {
    since: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
pub struct RevocationDelta {
    cursor: i64,
    pass_ids: Vec<String>,
}

/// Revoked pass ids after a cursor; scanners store `cursor` and ask again with it.
pub async fn revocations(
    State(st): State<AppState>,
    Query(q): Query<Since>,
) -> ApiResult<Json<RevocationDelta>> {
    let since = q.since.unwrap_or(0).max(0);
    let items = st
        .store
        .revocations_since(since, q.limit.unwrap_or(10_000).clamp(1, 10_000))
        .await?;
    let cursor = items.last().map_or(since, |r| r.seq);
    Ok(Json(RevocationDelta {
        cursor,
        pass_ids: items.into_iter().map(|r| r.pass_id).collect(),
    }))
}
