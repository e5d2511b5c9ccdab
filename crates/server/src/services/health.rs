//! A health officer's unit at a glance and its case list: the overview counts (each a link to its list)
//! and cases with the person's name, age, commune and phone. Health roles only, inside their jurisdiction;
//! reads of people are audited.

use super::people::PersonView;
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::{CaseClass, CaseState};
use kiemdich_store::{CaseFilter, CaseSearch, Principal, Role};
use serde::{Deserialize, Serialize};

pub const HEALTH: &[Role] = &[Role::Health, Role::Admin];

/// The most cases a list shows at once; a search narrows it.
pub const LIST_LIMIT: i64 = 200;

/// The counts of a jurisdiction today (Vietnam time).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
}

/// The caller's unit: its counts of active cases, today's passes and scans, and follow-ups due.
pub async fn overview(st: &AppState, who: &Principal) -> ApiResult<Overview> {
    require(who)?;
    let now = chrono::Utc::now().timestamp();
    let day = st.rules.tracing.local_date(now);
    let since = st.rules.tracing.day_start(day);
    let communes = st.units_within(&who.unit);
    let counts = st.store.unit_counts(&communes, since).await?;
    let due = st.store.follow_ups(&communes, day).await?;
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
    pub onset_date: Option<String>,
    pub quarantine_until: Option<String>,
    pub opened_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseList {
    pub cases: Vec<CaseLine>,
    /// The list stopped at [`LIST_LIMIT`]: search to narrow it.
    pub truncated: bool,
}

/// Cases of the caller's jurisdiction by class, state and search, newest first. Audited as one read.
pub async fn case_list(st: &AppState, who: &Principal, q: &CaseQuery) -> ApiResult<CaseList> {
    require(who)?;
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
                classification: CaseClass::parse(&c.classification).map_err(ApiError::internal)?,
                state: CaseState::parse(&c.state).map_err(ApiError::internal)?,
                active: c.active,
                person: PersonView::new(
                    st,
                    &c.citizen_id,
                    &c.commune_code,
                    r.person.as_ref(),
                    today,
                ),
                onset_date: c.onset_date.clone().or_else(|| c.sample_date.clone()),
                quarantine_until: c.quarantine_until.clone(),
                opened_at: crate::routes::rfc3339(c.created_at),
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

fn require(who: &Principal) -> ApiResult<()> {
    if HEALTH.contains(&who.role) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "health officers and administrators only",
        ))
    }
}
