//! Cases (suspected, F0, F1, F2), tracing them and confirming the contacts found. Health roles only, inside
//! their jurisdiction; every read is audited.

use super::{Body, OptionalBody, rfc3339};
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use crate::services::health;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use kiemdich_domain::catalogue::{Message as _, Sms, fill};
use kiemdich_domain::trace_walk::TraceResult;
use kiemdich_domain::{
    CaseClass, CaseSource, CaseState, CitizenId, DetectedIn, FieldErrors, OutboxChannel, RawCase,
};
use kiemdich_store::{CaseRecord, NewCase, Notice, Opened, Principal, Role, citizen_text};
use serde::{Deserialize, Serialize};

const HEALTH: &[Role] = &[Role::Health, Role::Admin];

/// A case just opened, and the passes that stopped with it.
#[derive(Serialize)]
pub struct OpenedCase {
    #[serde(flatten)]
    case: CaseRecord,
    revoked_passes: Vec<String>,
}

pub async fn create(
    State(st): State<AppState>,
    staff: Staff,
    Body(req): Body<RawCase>,
) -> ApiResult<(StatusCode, Json<OpenedCase>)> {
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
    Ok((
        StatusCode::CREATED,
        Json(OpenedCase {
            case,
            revoked_passes: opened.revoked_passes,
        }),
    ))
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
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let new = NewCase::reported(report, &record, &st.rules.version, today);
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

/// One case with its person. Audited.
pub async fn get_one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<health::CaseDetail>> {
    Ok(Json(health::case_detail(&st, &staff.0, id).await?))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct TraceBody {
    depth: Option<u32>,
    #[serde(alias = "min_overlap_minutes")]
    min_overlap: Option<u32>,
}

/// A trace as computed, with the case and the id it is kept under.
#[derive(Serialize)]
pub struct TraceAnswer {
    case_id: i64,
    trace_id: i64,
    #[serde(flatten)]
    result: TraceResult,
}

/// Traces a case from its onset (or sample) date to its isolation; the result is kept with its rule version
/// and answered as `kiemdich trace --json` prints it, plus `case_id` and `trace_id`. The body is optional.
pub async fn trace(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    OptionalBody(req): OptionalBody<TraceBody>,
) -> ApiResult<Json<TraceAnswer>> {
    let who = staff.require(HEALTH)?;
    let case = health::case_in_reach(&st, who, id).await?;
    let params = health::trace_params(&st, &case, req.depth, req.min_overlap)?;
    let result = st.store.trace(&st.rules, &params).await?;
    let trace_id = st.store.save_trace_result(id, &result, &who.actor).await?;
    Ok(Json(TraceAnswer {
        case_id: id,
        trace_id,
        result,
    }))
}

#[derive(Deserialize)]
pub struct ConfirmBody {
    trace_id: i64,
    /// The contacts to confirm; all of them when absent.
    citizen_ids: Option<Vec<String>>,
    /// Contacts fully vaccinated or recovered, who quarantine for the shorter period: an override for people
    /// with no dose record only; for the others the records decide.
    #[serde(default)]
    vaccinated: Vec<String>,
}

/// The contacts of a kept trace just confirmed: one opened case each, with the passes it stopped.
#[derive(Serialize)]
pub struct Confirmed {
    case_id: i64,
    trace_id: i64,
    confirmed: Vec<Opened>,
}

/// Confirms contacts of a kept trace as F1/F2 cases: each revokes the person's passes at once and notifies them
/// and their commune. All or nothing: a contact who already has an active case refuses the whole request.
pub async fn confirm(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Body(req): Body<ConfirmBody>,
) -> ApiResult<(StatusCode, Json<Confirmed>)> {
    let who = staff.require(HEALTH)?;
    health::case_in_reach(&st, who, id).await?;
    let (case_id, result) = st
        .store
        .trace_run_result(req.trace_id)
        .await?
        .ok_or_else(|| ApiError::field("trace_id", format!("no trace {}", req.trace_id)))?;
    if case_id != id {
        return Err(ApiError::field(
            "trace_id",
            format!("trace {} belongs to case {case_id}", req.trace_id),
        ));
    }
    let wanted: Vec<String> = match &req.citizen_ids {
        Some(ids) => ids.clone(),
        None => result
            .contacts
            .iter()
            .map(|c| citizen_text(c.citizen))
            .collect(),
    };
    let mut errs = FieldErrors::default();
    let mut cases = Vec::new();
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    // The dose records decide who was fully vaccinated; the `vaccinated` list only speaks for a person with
    // no record (vaccinated abroad, before the records, or recovered).
    let ids: Vec<CitizenId> = wanted
        .iter()
        .filter_map(|c| CitizenId::parse(c).ok())
        .collect();
    let doses = crate::services::vaccination::states(&st, &ids, today).await?;
    for (i, citizen) in wanted.iter().enumerate() {
        let Some(contact) = result
            .contacts
            .iter()
            .find(|c| citizen_text(c.citizen) == *citizen)
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
        let class = CaseClass::of_degree(contact.degree);
        let last = contact
            .exposures
            .iter()
            .map(|e| e.to)
            .max()
            .unwrap_or_default();
        let vaccinated = match doses.get(&parsed).filter(|s| s.doses > 0) {
            Some(state) => state
                .fully_vaccinated_from
                .is_some_and(|from| from <= st.rules.tracing.local_date(last)),
            None => req.vaccinated.contains(citizen),
        };
        let quarantine_until = st.rules.tracing.quarantine_until(class, last, vaccinated);
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
            via: Some(citizen_text(contact.via)),
            exposures: contact.exposures.clone(),
            vaccinated,
            rule_version: result.rule_version.clone(),
            detected_in: DetectedIn::Community,
            counted_on: today,
            test_days: match quarantine_until {
                Some(until) => {
                    st.rules
                        .testing
                        .f1_test_dates(st.rules.tracing.local_date(last), until, today)
                }
                None => Vec::new(),
            },
            quarantine_until,
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
        Json(Confirmed {
            case_id: id,
            trace_id: req.trace_id,
            confirmed: opened,
        }),
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
) -> ApiResult<Json<CaseRecord>> {
    let who = staff.require(HEALTH)?;
    health::case_in_reach(&st, who, id).await?;
    let state = CaseState::parse(&req.state).map_err(|e| ApiError::field("state", e))?;
    if !st.store.set_case_state(id, state, &who.actor).await? {
        return Err(ApiError::conflict(format!("case {id} has already ended")));
    }
    let case = st
        .store
        .case(id)
        .await?
        .ok_or_else(|| ApiError::internal("case vanished"))?;
    Ok(Json(case))
}

/// Zoning for a case: the places and time windows of its stays, how many people shared each, the people per
/// home commune, and the places' coordinates for the map. Counts only: no names, no ids. Audited.
pub async fn zones(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<health::ZonesView>> {
    Ok(Json(health::zones(&st, &staff.0, id).await?))
}

/// How many people a case's zone notice reached (each person once, however many places they shared).
#[derive(Serialize)]
pub struct ZonesNotified {
    case_id: i64,
    people_told: usize,
}

/// Tells everyone who was at one of the case's places during its stay to watch their health and declare,
/// without saying who the case is: in-app, and by SMS where the registry has a phone.
pub async fn notify_zones(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<ZonesNotified>> {
    let (who, _, zones) = health::case_zones(&st, &staff.0, id).await?;
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
        let text = fill(
            Sms::ZoneExposure.vi(),
            &[
                ("place", &name),
                ("from", &clock.time(z.window.from)),
                ("to", &clock.time(z.window.to)),
            ],
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
            mine.extend(phone.as_deref().map(|p| to(OutboxChannel::Sms, p)));
            mine.push(to(OutboxChannel::App, &citizen));
        }
    }
    let people: Vec<(String, Vec<Notice>)> = people.into_iter().collect();
    let told = st.store.queue_zone_notices(id, &people, &who.actor).await?;
    Ok(Json(ZonesNotified {
        case_id: id,
        people_told: told,
    }))
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
    let format = match q.format.as_deref().unwrap_or("json") {
        "json" => ChainFormat::Json,
        "dot" => ChainFormat::Dot,
        "csv" => ChainFormat::Csv,
        other => {
            return Err(ApiError::field(
                "format",
                format!("json, dot or csv, got {other:?}"),
            ));
        }
    };
    let view = health::chain(&st, who, id).await?;
    let content = |t: &'static str, body: String| {
        ([(axum::http::header::CONTENT_TYPE, t)], body).into_response()
    };
    Ok(match format {
        ChainFormat::Json => Json(view).into_response(),
        ChainFormat::Dot => content("text/vnd.graphviz; charset=utf-8", chain_dot(&view)),
        ChainFormat::Csv => content("text/csv; charset=utf-8", chain_csv(&view)),
    })
}

/// How a chain is answered.
enum ChainFormat {
    Json,
    Dot,
    Csv,
}

/// A chain as Graphviz DOT: a node per case (class, id, citizen id), an edge per link labelled with the
/// shared minutes.
fn chain_dot(view: &health::ChainView) -> String {
    let mut dot = String::from("digraph chain {\n  rankdir=LR;\n");
    for c in &view.cases {
        let class = c.classification.as_str().to_uppercase();
        dot.push_str(&format!(
            "  c{} [label=\"{class} #{}\\n{}\"];\n",
            c.id, c.id, c.citizen_id
        ));
    }
    for l in &view.links {
        dot.push_str(&format!(
            "  c{} -> c{} [label=\"{} min\"];\n",
            l.from_case,
            l.to_case,
            l.minutes()
        ));
    }
    dot.push_str("}\n");
    dot
}

/// A chain as CSV, one line per piece of evidence.
fn chain_csv(view: &health::ChainView) -> String {
    let mut csv = String::from("source_case_id,case_id,location_id,from,to,minutes\n");
    for l in &view.links {
        for e in &l.exposures {
            csv.push_str(&format!(
                "{},{},{},{},{},{}\n",
                l.from_case,
                l.to_case,
                e.location_id,
                rfc3339(e.from.0),
                rfc3339(e.to.0),
                e.minutes
            ));
        }
    }
    csv
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
        .trace_run_result(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no trace {id}")))?;
    health::case_in_reach(&st, who, case_id)
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
    Ok(match q.format.as_deref().unwrap_or("json") {
        "csv" => (
            [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            kiemdich_store::trace_csv(&result),
        )
            .into_response(),
        "json" => Json(TraceAnswer {
            case_id,
            trace_id: id,
            result,
        })
        .into_response(),
        other => {
            return Err(ApiError::field(
                "format",
                format!("json or csv, got {other:?}"),
            ));
        }
    })
}
