//! The resident's own record: registry data, their newest pass and those of their household, an active case
//! (which replaces the declaration form with what to do), notices and visits. Read for the signed-in
//! resident only; audited.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use chrono::{NaiveDate, Utc};
use kiemdich_domain::{
    CaseClass, CitizenId, HealthStatus, Instant, RegistryRecord, VaccinationSummary,
};
use kiemdich_store::{PassRecord, PresenceEvent, Principal, Role};
use serde::Serialize;
use std::collections::HashMap;

/// How far back a resident sees their own visits: the presence log keeps no more anyway.
const OWN_VISITS_DAYS: i64 = 28;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyRecord {
    pub citizen_id: String,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: kiemdich_domain::Sex,
    /// Masked: the page need not show the whole number.
    pub phone: Option<String>,
    pub commune_code: String,
    pub commune_name: String,
    pub address: String,
    pub pass: Option<PassView>,
    /// The newest passes of the others in the registry household.
    pub household: Vec<MemberPass>,
    /// An active case: the page shows what it means and whom to call instead of the declaration form.
    pub case: Option<MyCase>,
    pub visits: Vec<VisitView>,
    pub notices: Vec<NoticeView>,
    /// Their doses, oldest first, and their vaccination state today.
    pub doses: Vec<crate::services::vaccination::DoseView>,
    pub vaccination: kiemdich_domain::VaccinationState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassView {
    pub pass_id: String,
    pub status: HealthStatus,
    pub issued_at: Instant,
    pub expires_at: Instant,
    pub live: bool,
    pub revoke_reason: Option<String>,
    /// The vaccination state the pass carries (at issue), shown beside the colour; None when its signature
    /// no longer verifies (a retired key).
    pub vaccination: Option<VaccinationSummary>,
}

impl PassView {
    pub fn of(st: &AppState, p: &PassRecord, now: i64) -> ApiResult<PassView> {
        let issued = chrono::DateTime::from_timestamp(p.issued_at, 0).unwrap_or_default();
        Ok(PassView {
            pass_id: p.id.clone(),
            status: p.status,
            issued_at: Instant(p.issued_at),
            expires_at: Instant(p.expires_at),
            live: p.revoked_at.is_none() && p.expires_at > now,
            revoke_reason: p.revoke_reason.clone(),
            vaccination: st
                .verifier()
                .verify(&p.token, issued)
                .ok()
                .map(|c| c.holder.vaccination),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberPass {
    pub full_name: String,
    pub pass: Option<PassView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MyCase {
    pub classification: CaseClass,
    pub quarantine_until: Option<NaiveDate>,
    /// Whom to call: the person's health station where one is configured, and the department's hotline.
    pub station: Option<crate::Station>,
    pub hotline: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitView {
    pub at: Instant,
    pub location_id: i64,
    pub location: Option<String>,
    pub direction: kiemdich_domain::Direction,
    pub decision: kiemdich_domain::Decision,
    pub reason: String,
    pub method: kiemdich_domain::ScanMethod,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NoticeView {
    pub at: Instant,
    pub text: String,
}

/// The signed-in resident and their citizen id.
pub fn resident_of(who: &Principal) -> ApiResult<CitizenId> {
    if who.role != Role::Resident {
        return Err(ApiError::forbidden("residents only"));
    }
    who.citizen_id
        .as_deref()
        .and_then(|c| CitizenId::parse(c).ok())
        .ok_or_else(|| ApiError::internal("resident session without a citizen id"))
}

/// Everything the system holds on the signed-in resident. Audited.
pub async fn my_record(st: &AppState, who: &Principal) -> ApiResult<MyRecord> {
    let id = resident_of(who)?;
    let record = st
        .store
        .resident(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{id} is no longer in the registry")))?;
    let now = Utc::now().timestamp();
    let pass = match st.store.latest_pass(id.as_str()).await? {
        Some(p) => Some(PassView::of(st, &p, now)?),
        None => None,
    };
    let household = household_passes(st, &record, now).await?;
    let case = st.store.active_case_of(&id).await?;
    let case = match case {
        Some(c) => Some(MyCase {
            classification: c.classification,
            quarantine_until: c.quarantine_until,
            station: st.station(&record.commune_code),
            hotline: st.authority().hotline,
        }),
        None => None,
    };
    let notices = st.store.notices_for(id.as_str(), 50).await?;
    let visits = st
        .store
        .visits_of(id.as_str(), now - OWN_VISITS_DAYS * 86_400, 500)
        .await?;
    let visits = visit_views(st, &visits).await?;
    let doses = st.store.doses_of(&id).await?;
    let vaccination = kiemdich_domain::VaccinationState::of(
        doses.iter().map(kiemdich_domain::DoseFacts::from),
        &st.rules.vaccination,
        st.rules.tracing.local_date(now),
    );
    let lang = crate::error::request_lang();
    let doses = doses
        .iter()
        .map(|d| crate::services::vaccination::DoseView::of(d, lang))
        .collect();
    st.store
        .audit(
            &who.actor,
            "resident.self_read",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    Ok(MyRecord {
        citizen_id: id.to_string(),
        full_name: record.full_name.as_str().to_owned(),
        date_of_birth: record.date_of_birth,
        sex: record.sex,
        phone: record.phone.as_ref().map(|p| p.masked()),
        commune_code: record.commune_code.to_string(),
        commune_name: super::people::unit_name(st, record.commune_code.as_str()),
        address: record.address.clone(),
        pass,
        household,
        case,
        visits,
        notices: notices
            .iter()
            .map(|n| NoticeView {
                at: Instant(n.created_at),
                text: n.body.clone(),
            })
            .collect(),
        doses,
        vaccination,
    })
}

/// The newest pass of every other member of the person's registry household.
async fn household_passes(
    st: &AppState,
    me: &RegistryRecord,
    now: i64,
) -> ApiResult<Vec<MemberPass>> {
    let mut out = Vec::new();
    for member in st.store.household_of(&me.citizen_id).await? {
        if member.citizen_id == me.citizen_id {
            continue;
        }
        let pass = match st.store.latest_pass(member.citizen_id.as_str()).await? {
            Some(p) => Some(PassView::of(st, &p, now)?),
            None => None,
        };
        out.push(MemberPass {
            full_name: member.full_name.as_str().to_owned(),
            pass,
        });
    }
    Ok(out)
}

pub(crate) async fn visit_views(
    st: &AppState,
    visits: &[PresenceEvent],
) -> ApiResult<Vec<VisitView>> {
    let mut names: HashMap<i64, Option<String>> = HashMap::new();
    let mut out = Vec::with_capacity(visits.len());
    for e in visits {
        if let std::collections::hash_map::Entry::Vacant(slot) = names.entry(e.location_id) {
            slot.insert(st.location(e.location_id).await?.map(|p| p.name));
        }
        out.push(VisitView {
            at: Instant(e.at),
            location_id: e.location_id,
            location: names.get(&e.location_id).cloned().flatten(),
            direction: e.direction,
            decision: e.decision,
            reason: e.reason.clone(),
            method: e.method,
        });
    }
    Ok(out)
}
