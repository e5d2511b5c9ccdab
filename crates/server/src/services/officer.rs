//! Commune officers' daily work: whom to check on today (with name, phone and address, due first, done
//! apart), and finding a person by citizen id or name with their latest pass to reprint. Inside the
//! officer's jurisdiction; every read of a person is audited.

use super::people::PersonView;
use super::resident::PassView;
use crate::AppState;
use crate::auth::require_role;
use crate::error::{ApiError, ApiResult};
use crate::services::vaccination::DoseView;
use chrono::NaiveDate;
use kiemdich_domain::catalogue::Problem;
use kiemdich_domain::{
    CaseClass, CitizenId, FollowUpChannel, FollowUpOutcome, Instant, RegistryRecord, UnitCode,
};
use kiemdich_store::{Journey, PersonSummary, PresenceEvent, Principal, Role};
use serde::Serialize;
use std::collections::HashMap;

/// Who follows up people in isolation or quarantine.
pub const FOLLOWERS: &[Role] = &[Role::Officer, Role::Health, Role::Admin];

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpList {
    pub day: NaiveDate,
    pub follow_ups: Vec<FollowUpLine>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpLine {
    pub case_id: i64,
    pub citizen_id: String,
    pub classification: CaseClass,
    pub commune_code: String,
    pub quarantine_until: Option<NaiveDate>,
    pub person: PersonView,
    /// What today's check found, once recorded.
    pub outcome: Option<FollowUpOutcome>,
    pub channel: Option<FollowUpChannel>,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
    /// A daily update of the day showed warning signs: listed first.
    pub urgent: bool,
}

impl FollowUpList {
    /// Those still to check today.
    pub fn due(&self) -> impl Iterator<Item = &FollowUpLine> {
        self.follow_ups.iter().filter(|f| f.outcome.is_none())
    }

    /// Those checked today.
    pub fn done(&self) -> impl Iterator<Item = &FollowUpLine> {
        self.follow_ups.iter().filter(|f| f.outcome.is_some())
    }
}

/// Who is due for a check on `day` in the caller's jurisdiction, and what was recorded. Audited.
pub async fn follow_ups(st: &AppState, who: &Principal, day: NaiveDate) -> ApiResult<FollowUpList> {
    require_role(who, FOLLOWERS)?;
    let due = st
        .store
        .follow_ups(&st.units_within(&who.unit), day)
        .await?;
    let ids: Vec<String> = due.iter().map(|f| f.case.citizen_id.to_string()).collect();
    let people = registry_of(st, &ids).await?;
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let mut lines = Vec::with_capacity(due.len());
    for f in &due {
        let c = &f.case;
        let person = people.get(c.citizen_id.as_str()).map(PersonSummary::from);
        lines.push(FollowUpLine {
            case_id: c.id,
            citizen_id: c.citizen_id.to_string(),
            classification: c.classification,
            commune_code: c.commune_code.to_string(),
            quarantine_until: c.quarantine_until,
            person: PersonView::new(
                st,
                c.citizen_id.as_str(),
                c.commune_code.as_str(),
                person.as_ref(),
                today,
            ),
            outcome: f.outcome,
            channel: f.channel,
            note: f.note.clone(),
            recorded_by: f.recorded_by.clone(),
            urgent: f.urgent,
        });
    }
    st.store
        .audit(
            &who.actor,
            "follow_up.read",
            &format!("unit:{}", who.unit),
            &format!("{day}: {} people", lines.len()),
        )
        .await?;
    Ok(FollowUpList {
        day,
        follow_ups: lines,
    })
}

/// A person found by an officer, with their latest pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FoundPerson {
    pub person: PersonView,
    pub pass: Option<PassView>,
    /// Their doses, oldest first.
    pub doses: Vec<DoseView>,
}

/// Residents of the caller's jurisdiction by citizen id (exactly) or name (case and diacritics ignored),
/// each with their latest pass and their doses. Every person shown is audited.
pub async fn find_people(
    st: &AppState,
    who: &Principal,
    q: &str,
    lang: kiemdich_domain::Lang,
) -> ApiResult<Vec<FoundPerson>> {
    require_role(who, &[Role::Officer, Role::Health, Role::Admin])?;
    let q = q.trim();
    let found = registry_search(st, who, q).await?;
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let now = chrono::Utc::now().timestamp();
    let ids: Vec<CitizenId> = found.iter().map(|r| r.citizen_id).collect();
    let mut doses = st.store.doses_of_many(&ids).await?;
    let mut out = Vec::new();
    for r in &found {
        st.store
            .audit(
                &who.actor,
                "resident.search",
                &format!("citizen:{}", r.citizen_id),
                q,
            )
            .await?;
        let pass = match st.store.latest_pass(r.citizen_id.as_str()).await? {
            Some(p) => Some(PassView::of(st, &p, now)?),
            None => None,
        };
        let summary = PersonSummary::from(r);
        out.push(FoundPerson {
            person: PersonView::new(
                st,
                r.citizen_id.as_str(),
                r.commune_code.as_str(),
                Some(&summary),
                today,
            ),
            pass,
            doses: doses
                .remove(&r.citizen_id)
                .unwrap_or_default()
                .iter()
                .map(|d| DoseView::of(d, lang))
                .collect(),
        });
    }
    Ok(out)
}

/// Registry records of the caller's jurisdiction by citizen id (exactly) or name (folded, at least two
/// letters or digits), at most 50. Not audited: the caller audits what it shows.
pub async fn registry_search(
    st: &AppState,
    who: &Principal,
    q: &str,
) -> ApiResult<Vec<RegistryRecord>> {
    let q = q.trim();
    let found: Vec<RegistryRecord> = match CitizenId::parse(q) {
        Ok(id) => st.store.resident(&id).await?.into_iter().collect(),
        Err(_) => {
            // Counted after folding, as the search compares: "%%" or "  " must not list a whole commune.
            let folded = kiemdich_domain::person::fold(q);
            if folded.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
                return Err(ApiError::field_as(
                    "q",
                    Problem::Required,
                    "search needs at least 2 letters or digits",
                ));
            }
            let tree = st.units();
            let communes: Vec<_> = tree
                .communes()
                .filter(|u| tree.contains(&who.unit, &u.code))
                .map(|u| u.code.clone())
                .collect();
            st.store.search_residents(&communes, q, 50).await?
        }
    };
    Ok(found
        .into_iter()
        .filter(|r| st.reaches(who, r.commune_code.as_str()))
        .collect())
}

async fn registry_of(st: &AppState, ids: &[String]) -> ApiResult<HashMap<String, RegistryRecord>> {
    Ok(st
        .store
        .residents(ids)
        .await?
        .into_iter()
        .map(|r| (r.citizen_id.to_string(), r))
        .collect())
}

/// Arrivals into and departures from a unit, by checkpoint scans of declared journeys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movements {
    pub unit: UnitCode,
    pub unit_name: String,
    pub from: Instant,
    pub to: Instant,
    pub arrivals: Vec<Movement>,
    pub departures: Vec<Movement>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Movement {
    pub citizen_id: Option<String>,
    pub at: Instant,
    pub location_id: i64,
    /// The checkpoint's name.
    pub location: Option<String>,
    pub from_unit: Option<String>,
    pub to_unit: Option<String>,
    pub decision: kiemdich_domain::Decision,
}

/// Movement report for `unit` (inside the caller's jurisdiction) over `[from, to)`. Audited.
pub async fn movements(
    st: &AppState,
    who: &Principal,
    unit: &UnitCode,
    from: i64,
    to: i64,
) -> ApiResult<Movements> {
    require_role(who, &[Role::Officer, Role::Health, Role::Admin])?;
    st.check_jurisdiction(who, unit)?;
    if from >= to {
        return Err(ApiError::field("from", "must be before to"));
    }
    // A journey may name a commune, a district or a province: every unit inside this one counts.
    let units = st.units_within(unit);
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
    Ok(Movements {
        unit: unit.clone(),
        unit_name: super::people::unit_name(st, unit.as_str()),
        from: Instant(from),
        to: Instant(to),
        arrivals: movement_lines(st, &arrivals).await?,
        departures: movement_lines(st, &departures).await?,
    })
}

async fn movement_lines(st: &AppState, events: &[PresenceEvent]) -> ApiResult<Vec<Movement>> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        out.push(Movement {
            citizen_id: e.citizen_id.clone(),
            at: Instant(e.at),
            location_id: e.location_id,
            location: st.location(e.location_id).await?.map(|p| p.name),
            from_unit: e.travel_from.clone(),
            to_unit: e.travel_to.clone(),
            decision: e.decision,
        });
    }
    Ok(out)
}
