//! Cases (suspected, F0, F1, F2), tracing them and confirming the contacts found. Health roles only, inside
//! their jurisdiction; every read is audited.

use super::{Body, rfc3339};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::services::health;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate};
use kiemdich_domain::tracing::Exposure;
use kiemdich_domain::{CaseClass, CaseSource, CaseState, CitizenId, FieldErrors, RawCase};
use kiemdich_store::{CaseRecord, NewCase, Notice, Principal, Role, TraceParams};
use serde::Deserialize;
use serde_json::{Value, json};

const HEALTH: &[Role] = &[Role::Health, Role::Admin];

fn case_json(c: &CaseRecord) -> Value {
    let mut v = json!(c);
    v["created_at"] = json!(rfc3339(c.created_at));
    v
}

/// A case the caller may see: one of a person living inside their jurisdiction, or one they opened (a
/// contact confirmed across a border belongs to their home commune, and its confirming officer keeps sight
/// of it). Any other id answers 404, like an unknown one.
async fn case_in_reach(st: &AppState, who: &Principal, id: i64) -> ApiResult<CaseRecord> {
    let missing = || ApiError::not_found(format!("no case {id}"));
    let case = st.store.case(id).await?.ok_or_else(missing)?;
    if case.created_by == who.actor || st.reaches(who, &case.commune_code) {
        Ok(case)
    } else {
        Err(missing())
    }
}

pub async fn create(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<RawCase>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = staff.require(HEALTH)?;
    let dates = st.rules.dates_at(chrono::Utc::now().timestamp());
    let report = req
        .parse(&dates, CaseSource::Manual)
        .map_err(ApiError::invalid)?;
    let opened = open_reported(&st, &report, who).await?;
    let case = st
        .store
        .case(opened.case_id)
        .await?
        .ok_or_else(|| ApiError::internal("case vanished"))?;
    let mut answer = case_json(&case);
    answer["revoked_passes"] = json!(opened.revoked_passes);
    Ok((StatusCode::CREATED, Json(answer)))
}

/// Opens a reported case for a person of the registry, inside the caller's jurisdiction.
async fn open_reported(
    st: &AppState,
    report: &kiemdich_domain::CaseReport,
    who: &Principal,
) -> ApiResult<kiemdich_store::Opened> {
    // A person registered outside the jurisdiction is answered like one not registered at all.
    let record = st
        .store
        .resident(&report.citizen_id)
        .await?
        .filter(|r| st.reaches(who, r.commune_code.as_str()))
        .ok_or_else(|| {
            ApiError::field(
                "citizen_id",
                format!(
                    "{} is not in the registry of your jurisdiction",
                    report.citizen_id
                ),
            )
        })?;
    let new = NewCase::reported(report, &record, &st.rules.version);
    let mut opened = st.store.open_cases(&[new], &who.actor).await?;
    Ok(opened.remove(0))
}

/// The case list of the caller's jurisdiction.
pub async fn list(
    State(st): State<AppState>,
    staff: Staff,
    axum::extract::Query(q): axum::extract::Query<health::CaseQuery>,
) -> ApiResult<Json<health::CaseList>> {
    Ok(Json(health::case_list(&st, &staff.0, &q).await?))
}

/// The caller's unit today.
pub async fn overview(
    State(st): State<AppState>,
    staff: Staff,
) -> ApiResult<Json<health::Overview>> {
    Ok(Json(health::overview(&st, &staff.0).await?))
}

pub async fn get_one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let who = staff.require(HEALTH)?;
    let case = case_in_reach(&st, who, id).await?;
    st.store
        .audit(
            &who.actor,
            "case.read",
            &format!("citizen:{}", case.citizen_id),
            &format!("case {id}"),
        )
        .await?;
    Ok(Json(case_json(&case)))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TraceBody {
    depth: Option<u32>,
    #[serde(alias = "min_overlap_minutes")]
    min_overlap: Option<u32>,
}

/// Traces a case from its onset (or sample) date to its isolation; the result is kept with its rule version
/// and answered as `kiemdich trace --json` prints it, plus `case_id` and `trace_id`. The body is optional.
pub async fn trace(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    body: axum::body::Bytes,
) -> ApiResult<Json<Value>> {
    let who = staff.require(HEALTH)?;
    let req: TraceBody = if body.iter().all(u8::is_ascii_whitespace) {
        TraceBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::new(ErrorCode::InvalidBody, e.to_string()))?
    };
    let case = case_in_reach(&st, who, id).await?;
    let params = trace_params(&st, &case, req.depth, req.min_overlap)?;
    let result = st.store.trace(&st.rules, &params).await?;
    let mut answer = result.to_json();
    let trace_id = st
        .store
        .save_trace(id, &result.rule_version, &answer.to_string(), &who.actor)
        .await?;
    answer["case_id"] = json!(id);
    answer["trace_id"] = json!(trace_id);
    Ok(Json(answer))
}

#[derive(Deserialize)]
pub struct ConfirmBody {
    trace_id: i64,
    /// The contacts to confirm; all of them when absent.
    citizen_ids: Option<Vec<String>>,
    /// Fully vaccinated or recovered contacts quarantine for the shorter period.
    #[serde(default)]
    vaccinated: Vec<String>,
}

fn exposures_of(contact: &Value) -> Vec<Exposure> {
    let t = |v: &Value| {
        v.as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map_or(0, |d| d.timestamp())
    };
    contact["exposures"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| Exposure {
            location_id: e["location_id"].as_i64().unwrap_or_default(),
            from: t(&e["from"]),
            to: t(&e["to"]),
            minutes: e["minutes"].as_i64().unwrap_or_default(),
        })
        .collect()
}

/// Confirms contacts of a kept trace as F1/F2 cases: each revokes the person's passes at once and notifies them
/// and their commune. All or nothing: a contact who already has an active case refuses the whole request.
pub async fn confirm(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Body(req): Body<ConfirmBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let who = staff.require(HEALTH)?;
    case_in_reach(&st, who, id).await?;
    let (case_id, result) = st
        .store
        .trace_run(req.trace_id)
        .await?
        .ok_or_else(|| ApiError::field("trace_id", format!("no trace {}", req.trace_id)))?;
    if case_id != id {
        return Err(ApiError::field(
            "trace_id",
            format!("trace {} belongs to case {case_id}", req.trace_id),
        ));
    }
    let result: Value = serde_json::from_str(&result).map_err(ApiError::internal)?;
    let contacts = result["contacts"].as_array().cloned().unwrap_or_default();
    let wanted: Vec<String> = match &req.citizen_ids {
        Some(ids) => ids.clone(),
        None => contacts
            .iter()
            .filter_map(|c| c["citizen_id"].as_str().map(str::to_owned))
            .collect(),
    };
    let mut errs = FieldErrors::default();
    let mut cases = Vec::new();
    for (i, citizen) in wanted.iter().enumerate() {
        let Some(contact) = contacts
            .iter()
            .find(|c| c["citizen_id"] == citizen.as_str())
        else {
            errs.push(
                format!("citizen_ids[{i}]"),
                format!("{citizen} is not a contact in trace {}", req.trace_id),
            );
            continue;
        };
        let parsed = CitizenId::parse(citizen).map_err(ApiError::internal)?;
        let Some(record) = st.store.resident(&parsed).await? else {
            errs.push(
                format!("citizen_ids[{i}]"),
                format!("{citizen} is no longer in the registry"),
            );
            continue;
        };
        let class = CaseClass::of_degree(contact["degree"].as_u64().unwrap_or(1) as u32);
        let exposures = exposures_of(contact);
        let last = exposures.iter().map(|e| e.to).max().unwrap_or_default();
        let vaccinated = req.vaccinated.contains(citizen);
        cases.push(NewCase {
            citizen_id: parsed,
            commune_code: record.commune_code.to_string(),
            phone: record.phone.map(|p| p.as_str().to_owned()),
            class,
            state: CaseState::IsolatingHome,
            onset_date: None,
            sample_date: None,
            isolated_date: None,
            source: CaseSource::Tracing,
            via: contact["via"].as_str().map(str::to_owned),
            quarantine_until: st.rules.tracing.quarantine_until(class, last, vaccinated),
            exposures,
            vaccinated,
            rule_version: result["rule_version"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        });
    }
    if !errs.is_empty() {
        return Err(ApiError::invalid(errs));
    }
    // F1s first, so that an F2 confirmed with its F1 links to the F1's new case.
    cases.sort_by_key(|c| c.class == CaseClass::F2);
    let opened = st.store.open_cases(&cases, &who.actor).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"case_id": id, "trace_id": req.trace_id, "confirmed": opened})),
    ))
}

#[derive(Deserialize)]
pub struct StateBody {
    state: String,
}

/// Moves a case along its course (hospitalised, released, died, …); a released case no longer colours passes.
pub async fn set_state(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Body(req): Body<StateBody>,
) -> ApiResult<Json<Value>> {
    let who = staff.require(HEALTH)?;
    case_in_reach(&st, who, id).await?;
    let state = CaseState::parse(&req.state).map_err(|e| ApiError::field("state", e))?;
    if !st.store.set_case_state(id, state, &who.actor).await? {
        return Err(ApiError::conflict(format!("case {id} has already ended")));
    }
    let case = st
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::internal("case vanished"))?;
    Ok(Json(case_json(&case)))
}

/// What tracing a case means under the rules: its window from its onset (or sample) date to its isolation.
fn trace_params(
    st: &AppState,
    case: &CaseRecord,
    depth: Option<u32>,
    min_overlap: Option<u32>,
) -> ApiResult<TraceParams> {
    let day = |d: &Option<String>| {
        d.as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    };
    let onset = day(&case.onset_date)
        .or(day(&case.sample_date))
        .ok_or_else(|| {
            ApiError::field(
                "onset_date",
                format!("case {} has no onset or sample date to trace from", case.id),
            )
        })?;
    let citizen = CitizenId::parse(&case.citizen_id).map_err(ApiError::internal)?;
    TraceParams::new(
        &st.rules,
        &citizen,
        onset,
        day(&case.isolated_date),
        depth,
        min_overlap,
    )
    .map_err(|e| ApiError::field("depth", e))
}

/// The zones of a case the caller may see, with its window.
async fn case_zones<'a>(
    st: &AppState,
    staff: &'a Staff,
    id: i64,
) -> ApiResult<(
    &'a Principal,
    kiemdich_domain::Span,
    Vec<kiemdich_store::Zone>,
)> {
    let who = staff.require(HEALTH)?;
    let case = case_in_reach(st, who, id).await?;
    let p = trace_params(st, &case, None, None)?;
    let zones = st.store.zones(&st.rules, p.citizen, p.window).await?;
    Ok((who, p.window, zones))
}

/// Zoning for a case: the places and time windows of its stays, how many people shared each, the people per
/// home commune, and the places' coordinates for the map. Counts only: no names, no ids. Audited.
pub async fn zones(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (who, window, zones) = case_zones(&st, &staff, id).await?;
    let everyone: Vec<String> = zones
        .iter()
        .flat_map(|z| z.visitors.iter().map(|v| kiemdich_store::citizen_text(*v)))
        .collect();
    let homes = st.store.reach_of(&everyone).await?;
    let mut per_commune: std::collections::BTreeMap<&str, usize> = Default::default();
    for (commune, _) in homes.values() {
        *per_commune.entry(commune.as_str()).or_default() += 1;
    }
    let mut places = Vec::new();
    for z in &zones {
        let place = st.location(z.location_id).await?;
        places.push(json!({
            "location_id": z.location_id, "name": place.as_ref().map(|p| p.name.clone()), "kind": place.as_ref().map(|p| p.kind.clone()),
            "commune_code": place.as_ref().map(|p| p.commune_code.clone()), "lat": place.as_ref().map(|p| p.lat), "lon": place.as_ref().map(|p| p.lon),
            "from": rfc3339(z.window.from), "to": rfc3339(z.window.to), "people_present": z.visitors.len(),
        }));
    }
    st.store
        .audit(
            &who.actor,
            "case.zones",
            &format!("case:{id}"),
            &format!("{} places", places.len()),
        )
        .await?;
    Ok(Json(json!({
        "case_id": id, "window": {"from": rfc3339(window.from), "to": rfc3339(window.to)}, "places": places,
        "people_by_home_commune": per_commune,
    })))
}

/// Tells everyone who was at one of the case's places during its stay to watch their health and declare,
/// without saying who the case is: in-app, and by SMS where the registry has a phone.
pub async fn notify_zones(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let (who, _, zones) = case_zones(&st, &staff, id).await?;
    let everyone: Vec<String> = zones
        .iter()
        .flat_map(|z| z.visitors.iter().map(|v| kiemdich_store::citizen_text(*v)))
        .collect();
    let reach = st.store.reach_of(&everyone).await?;
    let clock = st.rules.clock();
    let mut people: std::collections::BTreeMap<String, Vec<Notice>> = Default::default();
    for z in &zones {
        let name = st
            .location(z.location_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let text = format!(
            "kiemdich: ban da o {name} trong khoang {} - {} cung luc voi mot ca benh. Hay theo doi suc khoe va khai bao y te.",
            clock.time(z.window.from),
            clock.time(z.window.to)
        );
        for v in &z.visitors {
            let citizen = kiemdich_store::citizen_text(*v);
            let Some((home, phone)) = reach.get(&citizen) else {
                continue;
            };
            let to = |channel, recipient: &str| Notice {
                channel,
                recipient: recipient.to_owned(),
                body: text.clone(),
                unit: home.clone(),
            };
            let mine = people.entry(citizen.clone()).or_default();
            mine.extend(phone.as_deref().map(|p| to("sms", p)));
            mine.push(to("app", &citizen));
        }
    }
    let people: Vec<(String, Vec<Notice>)> = people.into_iter().collect();
    let told = st.store.queue_zone_notices(id, &people, &who.actor).await?;
    Ok(Json(json!({"case_id": id, "people_told": told})))
}

#[derive(Deserialize)]
pub struct ChainQuery {
    format: Option<String>,
}

/// The transmission chain a case belongs to, as JSON (nodes and edges with evidence), Graphviz DOT or CSV.
pub async fn chain(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<ChainQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let who = staff.require(HEALTH)?;
    case_in_reach(&st, who, id).await?;
    let (cases, links) = st.store.chain(id).await?;
    st.store
        .audit(
            &who.actor,
            "case.chain",
            &format!("case:{id}"),
            &format!("{} cases", cases.len()),
        )
        .await?;
    let content = |t: &'static str, body: String| {
        ([(axum::http::header::CONTENT_TYPE, t)], body).into_response()
    };
    Ok(match q.format.as_deref().unwrap_or("json") {
        "dot" => {
            let mut dot = String::from("digraph chain {\n  rankdir=LR;\n");
            for c in &cases {
                dot.push_str(&format!("  c{} [label=\"{} #{}\\n{}\"];\n", c.id, c.classification.to_uppercase(), c.id, c.citizen_id));
            }
            for l in &links {
                let minutes: i64 = l.exposures.iter().map(|e| e.minutes).sum();
                dot.push_str(&format!("  c{} -> c{} [label=\"{minutes} min\"];\n", l.from_case, l.to_case));
            }
            dot.push_str("}\n");
            content("text/vnd.graphviz; charset=utf-8", dot)
        }
        "csv" => {
            let mut csv = String::from("source_case_id,case_id,location_id,from,to,minutes\n");
            for l in &links {
                for e in &l.exposures {
                    csv.push_str(&format!("{},{},{},{},{},{}\n", l.from_case, l.to_case, e.location_id, rfc3339(e.from), rfc3339(e.to), e.minutes));
                }
            }
            content("text/csv; charset=utf-8", csv)
        }
        "json" => Json(json!({
            "case_id": id,
            "cases": cases.iter().map(case_json).collect::<Vec<_>>(),
            "links": links.iter().map(|l| json!({"from_case": l.from_case, "to_case": l.to_case,
                "exposures": l.exposures.iter().map(|e| json!({"location_id": e.location_id, "from": rfc3339(e.from), "to": rfc3339(e.to), "minutes": e.minutes})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        }))
        .into_response(),
        other => return Err(ApiError::field("format", format!("json, dot or csv, got {other:?}"))),
    })
}

/// A kept tracing result, as computed: JSON (default) or CSV, one line per exposure. Audited.
pub async fn trace_result(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    axum::extract::Query(q): axum::extract::Query<ChainQuery>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let who = staff.require(HEALTH)?;
    let (case_id, result) = st
        .store
        .trace_run(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no trace {id}")))?;
    case_in_reach(&st, who, case_id)
        .await
        .map_err(|_| ApiError::not_found(format!("no trace {id}")))?;
    st.store
        .audit(
            &who.actor,
            "trace.read",
            &format!("case:{case_id}"),
            &format!("trace {id}"),
        )
        .await?;
    let mut result: Value = serde_json::from_str(&result).map_err(ApiError::internal)?;
    Ok(match q.format.as_deref().unwrap_or("json") {
        "csv" => (
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            kiemdich_store::trace_csv(&result),
        )
            .into_response(),
        "json" => {
            result["case_id"] = json!(case_id);
            result["trace_id"] = json!(id);
            Json(result).into_response()
        }
        other => {
            return Err(ApiError::field(
                "format",
                format!("json or csv, got {other:?}"),
            ));
        }
    })
}
