//! Pass verification (online: signature, validity, revocation, current status), QR images, the printable
//! pass card, revocation, and the trust and revocation lists that offline verifiers cache.

use super::{Body, rfc3339};
use crate::AppState;
use crate::auth::{MaybeStaff, Staff};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use crate::qr;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use chrono::Utc;
use kiemdich_domain::{CitizenId, HealthStatus};
use kiemdich_pass::{PassClaims, Reason, Rejection, TrustList};
use kiemdich_store::{Current, PassRecord, Role};
use serde::Deserialize;
use serde_json::{Value, json};

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

pub async fn verify(
    State(st): State<AppState>,
    MaybeStaff(who): MaybeStaff,
    Body(req): Body<VerifyRequest>,
) -> ApiResult<Json<Value>> {
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
            json!({
                "valid": true, "reason": "valid", "status": current.status, "status_at_issue": claims.holder.status,
                "holder": claims.holder, "pass_id": record.id, "issued_at": rfc3339(record.issued_at),
                "expires_at": rfc3339(record.expires_at),
            })
        }
        Err(r) => {
            Metrics::inc(&st.metrics.verifications_invalid);
            json!({"valid": false, "reason": r.reason.code(), "message": r.detail, "status": null})
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

/// A printable card for people without phones: the QR and what a checkpoint may see, nothing more.
pub async fn card(State(st): State<AppState>, Path(id): Path<String>) -> ApiResult<Html<String>> {
    let pass = pass_or_404(&st, &id).await?;
    let holder = st
        .verifier()
        .verify(&pass.token, Utc::now())
        .map(|c| c.holder)
        .ok();
    let svg = qr::svg(&pass.token).map_err(ApiError::internal)?;
    let status = HealthStatus::parse(&pass.status).unwrap_or(HealthStatus::Yellow);
    let live = pass.revoked_at.is_none() && pass.expires_at > Utc::now().timestamp();
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Thẻ thông hành / Pass card" }
                style { (maud::PreEscaped(CARD_CSS)) }
            }
            body {
                main class="card" {
                    h1 { "Thẻ thông hành kiểm soát dịch" span lang="en" { "Epidemic control pass" } }
                    @if !live { p class="void" role="alert" { "Thẻ đã hết hiệu lực — Pass no longer valid" } }
                    div class="qr" role="img" aria-label="Mã QR của thẻ / pass QR code" { (maud::PreEscaped(svg)) }
                    dl {
                        @if let Some(h) = &holder {
                            dt { "Họ tên / Name" } dd { (h.name) }
                            dt { "Năm sinh / Birth year" } dd { (h.birth_year) }
                            dt { "Số định danh / ID" } dd { (h.masked_id) }
                        }
                        dt { "Tình trạng / Status" } dd { span class={"dot " (status.as_str())} {} (status.as_str()) }
                        dt { "Hiệu lực đến / Valid until" } dd { (st.rules.clock().time(pass.expires_at)) }
                        dt { "Mã thẻ / Pass id" } dd class="mono" { (pass.id) }
                    }
                    button type="button" data-print { "In thẻ / Print" } script src="/static/app.js" defer {}
                }
            }
        }
    };
    Ok(Html(page.into_string()))
}

const CARD_CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;color:#111}\
.card{max-width:22rem;margin:auto;border:2px solid #111;border-radius:.5rem;padding:1rem}\
h1{font-size:1.1rem;margin:0 0 .5rem}h1 span{display:block;font-size:.85rem;font-weight:normal}\
.qr svg{width:100%;height:auto}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem}dt{font-weight:600}dd{margin:0}\
.mono{font-family:monospace;font-size:.8rem;word-break:break-all}.void{background:#b00020;color:#fff;padding:.5rem}\
.dot{display:inline-block;width:.9em;height:.9em;border-radius:50%;margin-right:.4em;border:1px solid #111;vertical-align:middle}\
.green{background:#1b873f}.yellow{background:#f2c200}.orange{background:#e46a00}.red{background:#c5221f}\
button{font-size:1rem;padding:.6rem 1rem;margin-top:.75rem}@media print{button{display:none}body{padding:0}}";

#[derive(Deserialize)]
pub struct RevokeRequest {
    reason: String,
}

/// Revokes a pass and every other live pass of its holder at once (an official decision).
pub async fn revoke(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Body(req): Body<RevokeRequest>,
) -> ApiResult<Json<Value>> {
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
    Ok(Json(json!({"revoked": revoked})))
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

/// Revoked pass ids after a cursor; scanners store `cursor` and ask again with it.
pub async fn revocations(
    State(st): State<AppState>,
    Query(q): Query<Since>,
) -> ApiResult<Json<Value>> {
    let since = q.since.unwrap_or(0).max(0);
    let items = st
        .store
        .revocations_since(since, q.limit.unwrap_or(10_000).clamp(1, 10_000))
        .await?;
    let cursor = items.last().map_or(since, |r| r.seq);
    let ids: Vec<&str> = items.iter().map(|r| r.pass_id.as_str()).collect();
    Ok(Json(json!({"cursor": cursor, "pass_ids": ids})))
}
