//! Locations (checkpoints and venues), scans at them and their presence log.

use super::passes::check;
use super::{Body, rfc3339};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use kiemdich_domain::location::check_coordinates;
use kiemdich_domain::{Direction, FieldErrors, HealthStatus, LocationKind, UnitCode, UnitLevel};
use kiemdich_pass::{MAX_TOKEN_LEN, Reason};
use kiemdich_store::{Journey, Location, NewScan, PresenceEvent, Principal, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Deserialize)]
pub struct NewLocation {
    name: String,
    kind: String,
    commune_code: String,
    #[serde(default)]
    address: String,
    lat: f64,
    lon: f64,
    /// The organisation operating the place.
    #[serde(default)]
    operator: String,
    dwell_minutes: Option<i64>,
    /// Admitted statuses; default from the rules for the kind.
    admits: Option<Vec<String>>,
}

fn text(errs: &mut FieldErrors, field: &str, s: &str, min: usize, max: usize) -> String {
    let s = s.trim();
    if !(min..=max).contains(&s.chars().count()) {
        errs.push(field, format!("{min} to {max} characters"));
    }
    s.to_owned()
}

pub async fn create(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<NewLocation>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = staff.require(&[Role::Admin, Role::Officer])?;
    let mut errs = FieldErrors::default();
    let name = text(&mut errs, "name", &req.name, 1, 200);
    let address = text(&mut errs, "address", &req.address, 0, 300);
    let operator = text(&mut errs, "operator", &req.operator, 0, 200);
    let kind = errs.check("kind", LocationKind::parse(&req.kind));
    let commune = errs.check("commune_code", UnitCode::parse(&req.commune_code));
    if let Some(c) = &commune
        && st
            .units()
            .get(c)
            .is_none_or(|u| u.level != UnitLevel::Commune)
    {
        errs.push("commune_code", format!("{c} is not a known commune"));
    }
    errs.check("lat", check_coordinates(req.lat, req.lon));
    let defaults = kind.map(|k| st.rules.location_kinds[&k].clone());
    let dwell = req
        .dwell_minutes
        .or(defaults.as_ref().map(|d| i64::from(d.dwell_minutes)))
        .unwrap_or(0);
    if !(1..=24 * 60).contains(&dwell) {
        errs.push("dwell_minutes", "1 to 1440 minutes");
    }
    let admits: Vec<String> = match &req.admits {
        Some(list) => list
            .iter()
            .enumerate()
            .filter_map(|(i, s)| errs.check(format!("admits[{i}]"), HealthStatus::parse(s)))
            .map(|s| s.as_str().to_owned())
            .collect(),
        None => defaults
            .map(|d| d.admits.iter().map(|s| s.as_str().to_owned()).collect())
            .unwrap_or_default(),
    };
    let (kind, commune) = match (kind, commune) {
        (Some(k), Some(c)) if errs.is_empty() => (k, c),
        _ => return Err(ApiError::invalid(errs)),
    };
    st.check_jurisdiction(who, &commune)?;
    let id = st
        .store
        .create_location(
            &who.actor,
            &name,
            kind.as_str(),
            commune.as_str(),
            &address,
            (req.lat, req.lon),
            &operator,
            dwell,
            &admits,
        )
        .await?;
    let place = st
        .store
        .location(id)
        .await?
        .ok_or_else(|| ApiError::internal("location vanished"))?;
    Ok((StatusCode::CREATED, Json(json!(place))))
}

async fn location_in_reach(st: &AppState, who: &Principal, id: i64) -> ApiResult<Location> {
    let place = st
        .store
        .location(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no location {id}")))?;
    st.check_jurisdiction(
        who,
        &UnitCode::parse(&place.commune_code).map_err(ApiError::internal)?,
    )?;
    Ok(place)
}

/// Locations inside the caller's jurisdiction (no personal data).
pub async fn list(State(st): State<AppState>, staff: Staff) -> ApiResult<Json<Vec<Location>>> {
    let tree = st.units();
    let communes: Vec<String> = tree
        .communes()
        .filter(|u| tree.contains(&staff.0.unit, &u.code))
        .map(|u| u.code.to_string())
        .collect();
    Ok(Json(st.store.locations_in(&communes).await?))
}

pub async fn get_one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Location>> {
    Ok(Json(location_in_reach(&st, &staff.0, id).await?))
}

#[derive(Deserialize)]
pub struct ScanRequest {
    token: String,
    direction: String,
    scanned_at: Option<String>,
    idempotency_key: String,
}

/// When the scan happened: now, or the device's time for an offline scan, within the rules' bounds.
fn scan_time(st: &AppState, scanned_at: Option<&str>) -> ApiResult<i64> {
    let now = Utc::now().timestamp();
    let Some(s) = scanned_at else { return Ok(now) };
    let at = DateTime::parse_from_rfc3339(s)
        .map_err(|_| ApiError::field("scanned_at", format!("must be RFC 3339, got {s:?}")))?
        .timestamp();
    if at > now + i64::from(st.rules.scan_clock_skew_seconds) {
        return Err(ApiError::field(
            "scanned_at",
            "is in the future; check the device clock",
        ));
    }
    let max_age = i64::from(st.rules.offline_scan_max_age_hours) * 3600;
    if at < now - max_age {
        return Err(ApiError::field(
            "scanned_at",
            format!(
                "is older than {} hours; such offline scans are refused",
                st.rules.offline_scan_max_age_hours
            ),
        ));
    }
    Ok(at)
}

fn answer(e: &PresenceEvent) -> Value {
    json!({"decision": e.decision, "reason": e.reason, "status": e.status, "event_id": e.id, "at": rfc3339(e.at), "direction": e.direction})
}

/// Reasons that mean the pass is genuine but not usable now: the scan is recorded as a refusal. Any other
/// failure means the token is not a pass of this system, which is a bad request and stores nothing.
fn genuine_but_refused(r: Reason) -> bool {
    matches!(
        r,
        Reason::Expired
            | Reason::Revoked
            | Reason::Superseded
            | Reason::NotYetValid
            | Reason::KeyRetired
    )
}

/// A scan of a person's pass at a location: decides admit or refuse by the location's policy and stores
/// the presence event, once per idempotency key.
pub async fn scan(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Body(req): Body<ScanRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = staff.require(&[Role::Checkpoint, Role::Admin])?;
    let place = location_in_reach(&st, who, id).await?;
    if who.location_id.is_some_and(|bound| bound != id) {
        return Err(ApiError::forbidden(format!(
            "this device is bound to location {}",
            who.location_id.unwrap_or_default()
        )));
    }
    let direction =
        Direction::parse(&req.direction).map_err(|e| ApiError::field("direction", e))?;
    let key = req.idempotency_key.trim();
    if key.is_empty() || key.len() > 128 {
        return Err(ApiError::field("idempotency_key", "1 to 128 characters"));
    }
    if req.token.len() > MAX_TOKEN_LEN {
        return Err(ApiError::field(
            "token",
            format!("longer than {MAX_TOKEN_LEN} characters"),
        ));
    }
    let at = scan_time(&st, req.scanned_at.as_deref())?;
    let hash: String = Sha256::digest(format!(
        "{id}|{}|{}|{}",
        req.token.trim(),
        direction.as_str(),
        req.scanned_at.as_deref().unwrap_or("")
    ))
    .iter()
    .map(|b| format!("{b:02x}"))
    .collect();
    let replayed = |e: &PresenceEvent| -> ApiResult<(StatusCode, Json<Value>)> {
        if e.request_hash == hash {
            Ok((StatusCode::OK, Json(answer(e))))
        } else {
            Err(ApiError::new(
                StatusCode::CONFLICT,
                "idempotency_conflict",
                "this idempotency key was already used for a different scan",
            ))
        }
    };
    // A resent scan is recognised when stored (the key is unique per device), so no lookup precedes it.
    let at_checkpoint = place.kind == LocationKind::Checkpoint.as_str();
    let (citizen, pass, current, decision, reason) = match check(&st, &req.token).await? {
        Ok((_, record, current)) => {
            let admitted = place.admits.contains(&current.status);
            let (decision, reason) = if admitted {
                ("admit", "valid".to_owned())
            } else {
                ("refuse", format!("status_{}_not_admitted", current.status))
            };
            (
                Some(record.citizen_id),
                Some(record.id),
                Some(current),
                decision,
                reason,
            )
        }
        Err(r) if genuine_but_refused(r.reason) => {
            (None, None, None, "refuse", r.reason.code().to_owned())
        }
        Err(r) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_pass",
                format!("{}: {}", r.reason.code(), r.detail),
            ));
        }
    };
    let recorded = st
        .store
        .record_scan(NewScan {
            location_id: id,
            citizen_id: citizen,
            pass_id: pass,
            direction: direction.as_str().into(),
            at,
            device: who.actor.clone(),
            method: "pass".into(),
            decision: decision.into(),
            reason,
            // Only checkpoints report journeys: the commune left and the one headed for are both told.
            travel_from: current
                .as_ref()
                .filter(|_| at_checkpoint)
                .and_then(|c| c.departure_unit.clone()),
            travel_to: current
                .as_ref()
                .filter(|_| at_checkpoint)
                .and_then(|c| c.destination_unit.clone()),
            status: current.map(|c| c.status),
            idempotency_key: key.to_owned(),
            request_hash: hash.clone(),
        })
        .await?;
    if recorded.replay {
        return replayed(&recorded.event);
    }
    Metrics::inc(if decision == "admit" {
        &st.metrics.scans_admitted
    } else {
        &st.metrics.scans_refused
    });
    Ok((StatusCode::CREATED, Json(answer(&recorded.event))))
}

#[derive(Deserialize)]
pub struct Window {
    from: Option<String>,
    to: Option<String>,
}

fn instant(field: &str, s: Option<&str>, default: i64) -> ApiResult<i64> {
    s.map(|s| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.timestamp())
            .map_err(|_| ApiError::field(field, format!("must be RFC 3339, got {s:?}")))
    })
    .unwrap_or(Ok(default))
}

/// Who was at a location in [from, to) (default: the last 24 hours), for health and commune officers of
/// its jurisdiction; the read is audited.
pub async fn presence(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(w): Query<Window>,
) -> ApiResult<Json<Value>> {
    let who = staff.require(&[Role::Health, Role::Officer, Role::Admin])?;
    location_in_reach(&st, who, id).await?;
    // The default end is just past this second, so that a scan made this second is included.
    let to = instant("to", w.to.as_deref(), Utc::now().timestamp() + 1)?;
    let from = instant("from", w.from.as_deref(), to - 86_400)?;
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    let events = st.store.presence(id, from, to, 10_000).await?;
    st.store
        .audit(
            &who.actor,
            "presence.read",
            &format!("location:{id}"),
            &format!("{from}..{to}: {} events", events.len()),
        )
        .await?;
    let events: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({"event_id": e.id, "citizen_id": e.citizen_id, "pass_id": e.pass_id, "direction": e.direction, "at": rfc3339(e.at),
                   "decision": e.decision, "reason": e.reason, "status": e.status, "device": e.device, "method": e.method})
        })
        .collect();
    Ok(Json(
        json!({"location_id": id, "from": rfc3339(from), "to": rfc3339(to), "events": events}),
    ))
}

#[derive(Deserialize)]
pub struct MovementQuery {
    unit: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn movement_json(e: &PresenceEvent) -> Value {
    json!({"citizen_id": e.citizen_id, "at": rfc3339(e.at), "location_id": e.location_id, "from_unit": e.travel_from,
           "to_unit": e.travel_to, "decision": e.decision})
}

/// Movement report for a unit (default: the caller's): people scanned at a checkpoint on a declared
/// journey into it (arrivals) or out of it (departures), in [from, to) (default: the last 7 days). Audited.
pub async fn movements(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<MovementQuery>,
) -> ApiResult<Json<Value>> {
    let who = staff.require(&[Role::Officer, Role::Health, Role::Admin])?;
    let unit = match q.unit.as_deref() {
        Some(u) => UnitCode::parse(u).map_err(|e| ApiError::field("unit", e))?,
        None => who.unit.clone(),
    };
    st.check_jurisdiction(who, &unit)?;
    let to = instant("to", q.to.as_deref(), Utc::now().timestamp() + 1)?;
    let from = instant("from", q.from.as_deref(), to - 7 * 86_400)?;
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    // A journey may name a commune, a district or a province: every unit inside this one counts.
    let tree = st.units();
    let units: Vec<String> = tree
        .all()
        .filter(|u| tree.contains(&unit, &u.code))
        .map(|u| u.code.to_string())
        .collect();
    let arrivals = st
        .store
        .movements(Journey::Arrivals, &units, from, to, 5_000)
        .await?;
    let departures = st
        .store
        .movements(Journey::Departures, &units, from, to, 5_000)
        .await?;
    st.store
        .audit(
            &who.actor,
            "movement.read",
            &format!("unit:{unit}"),
            &format!(
                "{} arrivals, {} departures",
                arrivals.len(),
                departures.len()
            ),
        )
        .await?;
    Ok(Json(json!({
        "unit": unit, "from": rfc3339(from), "to": rfc3339(to),
        "arrivals": arrivals.iter().map(movement_json).collect::<Vec<_>>(),
        "departures": departures.iter().map(movement_json).collect::<Vec<_>>(),
    })))
}
