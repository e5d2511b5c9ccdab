//! A health officer's unit at a glance and its case list: the overview counts (each a link to its list)
//! and cases with the person's name, age, commune and phone. Health roles only, inside their jurisdiction;
//! reads of people are audited.

use super::people::PersonView;
use crate::AppState;
use crate::auth::require_role;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::catalogue::Problem;
use kiemdich_domain::trace_walk::TraceResult;
use kiemdich_domain::{CaseClass, CaseState, Instant, RegistryRecord};
use kiemdich_store::{
    CaseFilter, CaseRecord, CaseSearch, PersonSummary, Principal, Role, TraceParams, citizen_text,
};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

pub const HEALTH: &[Role] = &[Role::Health, Role::Admin];

/// The most cases a list shows at once; a search narrows it.
pub const LIST_LIMIT: i64 = 200;

/// The counts of a jurisdiction today (Vietnam time).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overview {
    pub unit_code: String,
    pub unit_name: String,
    pub day: chrono::NaiveDate,
    /// Active cases: confirmed (F0), close contacts in quarantine (F1), their contacts (F2), suspected.
    pub f0: i64,
    pub f1: i64,
    pub f2: i64,
    pub suspected: i64,
    pub passes_issued_today: i64,
    pub scans_today: i64,
    /// People whose daily check is not yet recorded today.
    pub follow_ups_due: usize,
    /// People whose update today showed warning signs, newest first: the top of the overview.
    pub urgent: Vec<UrgentLine>,
}

/// A person to contact at once: their update with warning signs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UrgentLine {
    pub person: PersonView,
    pub at: Instant,
    pub temperature_c: Option<f32>,
    pub spo2: Option<u8>,
    pub symptoms: Vec<kiemdich_domain::Symptom>,
}

/// The caller's unit: its counts of active cases, today's passes and scans, and follow-ups due.
pub async fn overview(st: &AppState, who: &Principal) -> ApiResult<Overview> {
    require_role(who, HEALTH)?;
    let now = chrono::Utc::now().timestamp();
    let day = st.rules.tracing.local_date(now);
    let since = st.rules.tracing.day_start(day);
    let communes = st.units_within(&who.unit);
    let counts = st.store.unit_counts(&communes, since).await?;
    let due = st.store.follow_ups(&communes, day).await?;
    let urgent = st.store.urgent_updates(&communes, day).await?;
    let ids: Vec<String> = urgent.iter().map(|u| u.citizen_id.to_string()).collect();
    let people: HashMap<String, RegistryRecord> = st
        .store
        .residents(&ids)
        .await?
        .into_iter()
        .map(|r| (r.citizen_id.to_string(), r))
        .collect();
    let urgent = urgent
        .iter()
        .map(|u| {
            let person = people.get(u.citizen_id.as_str()).map(PersonSummary::from);
            UrgentLine {
                person: PersonView::new(
                    st,
                    u.citizen_id.as_str(),
                    &u.commune_code,
                    person.as_ref(),
                    day,
                ),
                at: u.at,
                temperature_c: u.temperature_c,
                spo2: u.spo2,
                symptoms: u.symptoms.clone(),
            }
        })
        .collect();
    if !ids.is_empty() {
        st.store
            .audit(
                &who.actor,
                "health_update.read",
                &format!("unit:{}", who.unit),
                &format!("{day}: {} urgent", ids.len()),
            )
            .await?;
    }
    let class = |c| counts.active.get(&c).copied().unwrap_or_default();
    Ok(Overview {
        unit_code: who.unit.to_string(),
        unit_name: super::people::unit_name(st, who.unit.as_str()),
        day,
        f0: class(CaseClass::F0),
        f1: class(CaseClass::F1),
        f2: class(CaseClass::F2),
        suspected: class(CaseClass::Suspected),
        passes_issued_today: counts.passes_issued,
        scans_today: counts.scans,
        follow_ups_due: due.iter().filter(|f| f.outcome.is_none()).count(),
        urgent,
    })
}

/// What a case list asks for, as the query string carries it.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CaseQuery {
    /// `f0`, `f1`, `f2` or `suspected`.
    pub class: Option<String>,
    /// A citizen id or part of a name.
    pub q: Option<String>,
    /// Ended cases too.
    #[serde(default)]
    pub ended: bool,
}

/// One line of the case list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseLine {
    pub id: i64,
    pub classification: CaseClass,
    pub state: CaseState,
    pub active: bool,
    pub person: PersonView,
    pub onset_date: Option<chrono::NaiveDate>,
    pub quarantine_until: Option<chrono::NaiveDate>,
    pub opened_at: Instant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseList {
    pub cases: Vec<CaseLine>,
    /// The list stopped at [`LIST_LIMIT`]: search to narrow it.
    pub truncated: bool,
}

/// Cases of the caller's jurisdiction by class, state and search, newest first. Audited as one read.
pub async fn case_list(st: &AppState, who: &Principal, q: &CaseQuery) -> ApiResult<CaseList> {
    require_role(who, HEALTH)?;
    let class = match q.class.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(CaseClass::parse(c).map_err(|e| ApiError::field("class", e))?),
        None => None,
    };
    let filter = CaseFilter {
        class,
        include_ended: q.ended,
        search: q.q.as_deref().and_then(CaseSearch::parse),
        limit: LIST_LIMIT + 1,
    };
    let mut rows = st
        .store
        .case_list(&st.units_within(&who.unit), &filter)
        .await?;
    let truncated = rows.len() > usize::try_from(LIST_LIMIT).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(LIST_LIMIT).unwrap_or(usize::MAX));
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let cases: Vec<CaseLine> = rows
        .iter()
        .map(|r| {
            let c = &r.case;
            Ok(CaseLine {
                id: c.id,
                classification: c.classification,
                state: c.state,
                active: c.active,
                person: PersonView::new(
                    st,
                    c.citizen_id.as_str(),
                    c.commune_code.as_str(),
                    r.person.as_ref(),
                    today,
                ),
                onset_date: c.onset_date.or(c.sample_date),
                quarantine_until: c.quarantine_until,
                opened_at: c.created_at,
            })
        })
        .collect::<ApiResult<_>>()?;
    st.store
        .audit(
            &who.actor,
            "case.list",
            &format!("unit:{}", who.unit),
            &format!("{} cases", cases.len()),
        )
        .await?;
    Ok(CaseList { cases, truncated })
}

/// A case the caller may see: one of a person living inside their jurisdiction, or one they opened (a
/// contact confirmed across a border belongs to their home commune, and its confirming officer keeps sight
/// of it). Any other id answers 404, like an unknown one.
pub async fn case_in_reach(st: &AppState, who: &Principal, id: i64) -> ApiResult<CaseRecord> {
    require_role(who, HEALTH)?;
    let missing = || ApiError::not_found(format!("no case {id}"));
    let case = st.store.case(id).await?.ok_or_else(missing)?;
    if case.created_by == who.actor || st.reaches(who, case.commune_code.as_str()) {
        Ok(case)
    } else {
        Err(missing())
    }
}

/// What tracing a case means under the rules: its window from its onset (or sample) date to its isolation.
pub fn trace_params(
    st: &AppState,
    case: &CaseRecord,
    depth: Option<u32>,
    min_overlap: Option<u32>,
) -> ApiResult<TraceParams> {
    let onset = case.onset_date.or(case.sample_date).ok_or_else(|| {
        ApiError::field_as(
            "onset_date",
            Problem::Required,
            format!("case {} has no onset or sample date to trace from", case.id),
        )
    })?;
    TraceParams::new(
        &st.rules,
        &case.citizen_id,
        onset,
        case.isolated_date,
        depth,
        min_overlap,
    )
    .map_err(|e| ApiError::field("depth", e))
}

/// A case with its person, as a health officer sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: CaseRecord,
    pub person: PersonView,
}

/// One case and its person. Audited.
pub async fn case_detail(st: &AppState, who: &Principal, id: i64) -> ApiResult<CaseDetail> {
    let case = case_in_reach(st, who, id).await?;
    let record = st.store.resident(&case.citizen_id).await?;
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let person = PersonView::new(
        st,
        case.citizen_id.as_str(),
        case.commune_code.as_str(),
        record.as_ref().map(PersonSummary::from).as_ref(),
        today,
    );
    st.store
        .audit(
            &who.actor,
            "case.read",
            &format!("citizen:{}", case.citizen_id),
            &format!("case {id}"),
        )
        .await?;
    Ok(CaseDetail { case, person })
}

/// A kept trace as a health officer reads it: counts first, then each contact with name, age, commune and
/// phone, whom they were reached through, and where and when they shared a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TraceView {
    pub trace_id: i64,
    pub case_id: i64,
    pub rule_version: String,
    pub from: Instant,
    pub to: Instant,
    pub f1: usize,
    pub f2: usize,
    pub contacts: Vec<ContactLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContactLine {
    pub person: PersonView,
    pub degree: u32,
    /// The name (or masked id) of the person through whom the contact was reached.
    pub via: String,
    pub exposures: Vec<ExposureLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExposureLine {
    pub place: String,
    pub from: Instant,
    pub to: Instant,
    pub minutes: i64,
}

/// The newest kept trace of a case, if any. Audited (it names people).
pub async fn latest_trace(
    st: &AppState,
    who: &Principal,
    case_id: i64,
) -> ApiResult<Option<TraceView>> {
    let case = case_in_reach(st, who, case_id).await?;
    let Some((trace_id, result)) = st.store.latest_trace_result(case_id).await? else {
        return Ok(None);
    };
    let view = trace_view(st, &case, trace_id, &result).await?;
    st.store
        .audit(
            &who.actor,
            "trace.read",
            &format!("case:{case_id}"),
            &format!("trace {trace_id}"),
        )
        .await?;
    Ok(Some(view))
}

async fn trace_view(
    st: &AppState,
    case: &CaseRecord,
    trace_id: i64,
    result: &TraceResult,
) -> ApiResult<TraceView> {
    let mut ids: Vec<String> = result
        .contacts
        .iter()
        .map(|c| citizen_text(c.citizen))
        .collect();
    ids.push(case.citizen_id.to_string());
    let people: HashMap<String, RegistryRecord> = st
        .store
        .residents(&ids)
        .await?
        .into_iter()
        .map(|r| (r.citizen_id.to_string(), r))
        .collect();
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let view_of = |citizen: &str| {
        let record = people.get(citizen);
        let commune = record.map_or_else(String::new, |r| r.commune_code.to_string());
        PersonView::new(
            st,
            citizen,
            &commune,
            record.map(PersonSummary::from).as_ref(),
            today,
        )
    };
    let mut places: HashMap<i64, String> = HashMap::new();
    for e in result.contacts.iter().flat_map(|c| &c.exposures) {
        if let std::collections::hash_map::Entry::Vacant(slot) = places.entry(e.location_id) {
            slot.insert(
                st.location(e.location_id)
                    .await?
                    .map_or_else(|| format!("#{}", e.location_id), |p| p.name),
            );
        }
    }
    let contacts: Vec<ContactLine> = result
        .contacts
        .iter()
        .map(|c| ContactLine {
            person: view_of(&citizen_text(c.citizen)),
            degree: c.degree,
            via: view_of(&citizen_text(c.via)).display_name(),
            exposures: c
                .exposures
                .iter()
                .map(|e| ExposureLine {
                    place: places.get(&e.location_id).cloned().unwrap_or_default(),
                    from: Instant(e.from),
                    to: Instant(e.to),
                    minutes: e.minutes,
                })
                .collect(),
        })
        .collect();
    Ok(TraceView {
        trace_id,
        case_id: case.id,
        rule_version: result.rule_version.clone(),
        from: Instant(result.window.from),
        to: Instant(result.window.to),
        f1: contacts.iter().filter(|c| c.degree == 1).count(),
        f2: contacts.iter().filter(|c| c.degree > 1).count(),
        contacts,
    })
}

/// The zones of a case the caller may see, with its window.
pub async fn case_zones<'a>(
    st: &AppState,
    who: &'a Principal,
    id: i64,
) -> ApiResult<(
    &'a Principal,
    kiemdich_domain::Span,
    Vec<kiemdich_store::Zone>,
)> {
    let case = case_in_reach(st, who, id).await?;
    let p = trace_params(st, &case, None, None)?;
    let zones = st.store.zones(&st.rules, p.citizen, p.window).await?;
    Ok((who, p.window, zones))
}

/// A case's zoning: counts only, no names or ids.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZonesView {
    pub case_id: i64,
    pub window: Window,
    pub places: Vec<ZonePlace>,
    /// People present, by home commune code.
    pub people_by_home_commune: std::collections::BTreeMap<String, usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub from: Instant,
    pub to: Instant,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZonePlace {
    pub location_id: i64,
    pub name: Option<String>,
    pub kind: Option<kiemdich_domain::LocationKind>,
    pub commune_code: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub from: Instant,
    pub to: Instant,
    pub people_present: usize,
}

/// Zoning for a case. Audited.
pub async fn zones(st: &AppState, who: &Principal, id: i64) -> ApiResult<ZonesView> {
    let (who, window, zones) = case_zones(st, who, id).await?;
    let everyone: Vec<String> = zones
        .iter()
        .flat_map(|z| z.visitors.iter().map(|v| citizen_text(*v)))
        .collect();
    let homes = st.store.reach_of(&everyone).await?;
    let mut people_by_home_commune = std::collections::BTreeMap::new();
    for (commune, _) in homes.into_values() {
        *people_by_home_commune.entry(commune).or_default() += 1;
    }
    let mut places = Vec::new();
    for z in &zones {
        let place = st.location(z.location_id).await?;
        places.push(ZonePlace {
            location_id: z.location_id,
            name: place.as_ref().map(|p| p.name.clone()),
            kind: place.as_ref().map(|p| p.kind),
            commune_code: place.as_ref().map(|p| p.commune_code.clone()),
            lat: place.as_ref().map(|p| p.lat),
            lon: place.as_ref().map(|p| p.lon),
            from: Instant(z.window.from),
            to: Instant(z.window.to),
            people_present: z.visitors.len(),
        });
    }
    st.store
        .audit(
            &who.actor,
            "case.zones",
            &format!("case:{id}"),
            &format!("{} places", places.len()),
        )
        .await?;
    Ok(ZonesView {
        case_id: id,
        window: Window {
            from: Instant(window.from),
            to: Instant(window.to),
        },
        places,
        people_by_home_commune,
    })
}

/// The transmission chain a case belongs to: every case from its first known source on, and who exposed
/// whom with the evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChainView {
    /// The case the chain was asked for.
    pub case_id: i64,
    pub cases: Vec<CaseRecord>,
    pub links: Vec<ChainLinkView>,
}

/// One link of a chain: `from_case` exposed `to_case`, with the stays they shared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLinkView {
    pub from_case: i64,
    pub to_case: i64,
    pub exposures: Vec<Evidence>,
}

impl ChainLinkView {
    /// The minutes shared over all the link's evidence.
    pub fn minutes(&self) -> i64 {
        self.exposures.iter().map(|e| e.minutes).sum()
    }
}

/// Where and when two cases shared a place, in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Evidence {
    pub location_id: i64,
    pub from: Instant,
    pub to: Instant,
    pub minutes: i64,
}

/// The chain of a case the caller may see. Audited (it names people).
pub async fn chain(st: &AppState, who: &Principal, id: i64) -> ApiResult<ChainView> {
    case_in_reach(st, who, id).await?;
    let (cases, links) = st.store.chain(id).await?;
    st.store
        .audit(
            &who.actor,
            "case.chain",
            &format!("case:{id}"),
            &format!("{} cases", cases.len()),
        )
        .await?;
    let links = links
        .into_iter()
        .map(|l| ChainLinkView {
            from_case: l.from_case,
            to_case: l.to_case,
            exposures: l
                .exposures
                .iter()
                .map(|e| Evidence {
                    location_id: e.location_id,
                    from: Instant(e.from),
                    to: Instant(e.to),
                    minutes: e.minutes,
                })
                .collect(),
        })
        .collect();
    Ok(ChainView {
        case_id: id,
        cases,
        links,
    })
}
