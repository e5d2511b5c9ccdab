//! Batch sync for offline scanners: a scanner that kept its scans while the network was away sends its queue
//! in one request and gets one answer per scan, in order. Each item is checked and decided as the single scan
//! (`locations::decide_scan`); the good ones are stored together in one group commit, and the answer comes only
//! once they are durable. A bad item is answered on its own line and never spoils the others.

use super::Body;
use super::locations::{SCANNERS, ScanRequest, decide_scan, new_scan, settle};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorCode};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use kiemdich_domain::Decision;
use kiemdich_domain::catalogue::ApiText;
use kiemdich_store::{NewScan, PresenceEvent, Principal};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The most scans in one batch (an API limit, as the body sizes are): a larger queue goes in several.
pub const MAX_SCANS: usize = 500;
/// The largest batch body: 500 pass scans with room to spare.
pub const MAX_BODY_BYTES: usize = 512 * 1024;

/// `{"scans": [...]}`. The items stay raw until each is read on its own, so that one malformed item is
/// refused alone.
#[derive(Deserialize)]
pub struct BatchRequest {
    scans: Vec<Box<RawValue>>,
}

/// One scan of a batch: the single scan's fields and the location it was made at.
#[derive(Deserialize)]
struct BatchItem {
    location_id: i64,
    #[serde(flatten)]
    scan: ScanRequest,
}

/// Just the key of an item that could not be read whole, to name it in the answer.
#[derive(Deserialize)]
struct KeyOnly {
    idempotency_key: Option<String>,
}

#[derive(Serialize)]
pub struct BatchAnswer {
    results: Vec<ItemResult>,
}

/// The answer to one scan: 201 stored, 200 a replay of the same scan, with its decision and event; 409, 422
/// or 403 with the refusal's `{error, message, detail, fields}` as the API answers it.
#[derive(Serialize)]
struct ItemResult {
    idempotency_key: Option<String>,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    decision: Option<Decision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<i64>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    refusal: Option<serde_json::Value>,
}

impl ItemResult {
    /// A stored item: new (201) or a replay of the same scan (200), with the event's decision.
    fn stored(key: Option<String>, code: StatusCode, e: &PresenceEvent) -> ItemResult {
        ItemResult {
            idempotency_key: key,
            status: code.as_u16(),
            decision: Some(e.decision),
            reason: Some(e.reason.clone()),
            event_id: Some(e.id),
            refusal: None,
        }
    }

    /// A refused item, if the refusal is the item's own fault (a bad field, a location out of reach, a key
    /// used for another scan); any other failure (the database, a missing signing key) fails the whole batch,
    /// which the scanner sends again later.
    fn refused(key: Option<String>, e: ApiError) -> ApiResult<ItemResult> {
        let e = match e.code {
            ErrorCode::Invalid
            | ErrorCode::InvalidBody
            | ErrorCode::InvalidPass
            | ErrorCode::Forbidden
            | ErrorCode::IdempotencyConflict => e,
            // Unknown or out of reach: a batch names no location it cannot see, so both are 403.
            ErrorCode::NotFound => ApiError::forbidden(e.detail),
            _ => return Err(e),
        };
        Ok(ItemResult {
            idempotency_key: key,
            status: e.status().as_u16(),
            decision: None,
            reason: None,
            event_id: None,
            refusal: Some(e.body()),
        })
    }
}

/// A decided item waiting for its commit: where its answer goes and what tells a replay from a reused key.
struct Pending {
    slot: usize,
    idempotency_key: String,
    request_hash: String,
}

/// Reads and decides one item as the single scan would; `Err` is the item's refusal (or a failure of all).
async fn decide_item(st: &AppState, who: &Principal, raw: &RawValue) -> ApiResult<NewScan> {
    let item: BatchItem = serde_json::from_str(raw.get())
        .map_err(|e| ApiError::new(ErrorCode::InvalidBody, format!("the scan: {e}")))?;
    let decided = decide_scan(st, who, item.location_id, &item.scan).await?;
    Ok(new_scan(&decided.place, decided.outcome, decided.meta))
}

/// `POST /api/v1/scans/batch`: one answer per scan, in order, once the good ones are durable.
pub async fn batch(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<BatchRequest>,
) -> ApiResult<Json<BatchAnswer>> {
    let who = staff.require(SCANNERS)?;
    if req.scans.len() > MAX_SCANS {
        return Err(ApiError::new(
            ErrorCode::TooLarge,
            format!(
                "a batch holds at most {MAX_SCANS} scans, this one {}",
                req.scans.len()
            ),
        )
        .saying(ApiText::BatchTooLarge, &[("max", MAX_SCANS.to_string())]));
    }
    let mut results = Vec::with_capacity(req.scans.len());
    let (mut pending, mut scans) = (Vec::new(), Vec::new());
    for (slot, raw) in req.scans.iter().enumerate() {
        match decide_item(&st, who, raw).await {
            Ok(scan) => {
                pending.push(Pending {
                    slot,
                    idempotency_key: scan.idempotency_key.clone(),
                    request_hash: scan.request_hash.clone(),
                });
                results.push(None);
                scans.push(scan);
            }
            Err(e) => {
                let key = serde_json::from_str::<KeyOnly>(raw.get())
                    .ok()
                    .and_then(|k| k.idempotency_key);
                results.push(Some(ItemResult::refused(key, e)?));
            }
        }
    }
    let recorded = st.store.record_scans(scans).await?;
    for (p, r) in pending.into_iter().zip(recorded) {
        let r = r?;
        let key = Some(p.idempotency_key);
        results[p.slot] = Some(match settle(&st, &r, &p.request_hash) {
            Ok(code) => ItemResult::stored(key, code, &r.event),
            Err(e) => ItemResult::refused(key, e)?,
        });
    }
    let results = results
        .into_iter()
        .map(|r| r.ok_or_else(|| ApiError::internal("a batch item was left unanswered")))
        .collect::<ApiResult<_>>()?;
    Ok(Json(BatchAnswer { results }))
}
