//! The electronic health book (*Sổ sức khỏe điện tử*): one typed view of a person — identity, the current
//! colour with every fact that makes it (each with its date), and their history: declarations, passes, visits
//! of the last 28 days, samples and results, doses, cases and quarantine, follow-ups and daily updates. The
//! resident reads their own; health, officer and admin staff read it inside their jurisdiction. Every read is
//! audited as a read of personal data.

use crate::AppState;
use crate::auth::require_role;
use crate::error::ApiResult;
use crate::fhir::document::{Document, Parts};
use crate::services::resident::VisitView;
use crate::services::vaccination::DoseView;
use chrono::NaiveDate;
use kiemdich_domain::catalogue::{HealthBook as T, Labelled as _, Lang, Message as _, fill};
use kiemdich_domain::{
    CaseClass, CaseSource, CaseState, CitizenId, HealthStatus, Instant, RegistryRecord, Sex,
};
use kiemdich_store::{
    CaseRecord, DeclarationLine, FollowUpLine, HealthUpdateRecord, PassRecord, Principal, Role,
};
use serde::Serialize;

/// Who may read another person's book (inside their jurisdiction).
pub const READERS: &[Role] = &[Role::Health, Role::Officer, Role::Admin];

/// How far back the book lists visits: the presence log keeps no more anyway.
const VISIT_DAYS: i64 = 28;
/// The most visits listed (a person scanned at every door of a busy month).
const VISIT_LIMIT: i64 = 500;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthBookView {
    pub person: BookPerson,
    pub status: BookStatus,
    pub declarations: Vec<DeclarationLine>,
    pub passes: Vec<BookPass>,
    pub visits: Vec<VisitView>,
    pub samples: Vec<super::testing::MySample>,
    pub vaccinations: Vec<DoseView>,
    pub cases: Vec<BookCase>,
    pub follow_ups: Vec<FollowUpLine>,
    pub health_updates: Vec<HealthUpdateRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookPerson {
    pub citizen_id: String,
    pub full_name: String,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub commune_code: String,
    pub commune_name: String,
    pub address: String,
    /// Masked: the page need not show the whole number.
    pub phone: Option<String>,
}

/// The colour now and every fact that makes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookStatus {
    pub colour: HealthStatus,
    pub reasons: Vec<Reason>,
}

/// What kind of fact a reason is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// An open F0 or suspected case.
    OpenCase,
    /// Designated F1 (quarantined until a date) or F2 (watched).
    Contact,
    DeclaredSymptom,
    DeclaredExposure,
    /// A daily update reported symptoms after the latest declaration.
    ReportedSymptom,
    /// A positive test result.
    PositiveResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// The colour this fact alone gives.
    pub colour: HealthStatus,
    pub since: NaiveDate,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<NaiveDate>,
    /// What the fact is, in the reader's language.
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookPass {
    pub pass_id: String,
    pub status: HealthStatus,
    pub issued_at: Instant,
    pub expires_at: Instant,
    pub live: bool,
    pub revoke_reason: Option<String>,
}

/// A sample and its result, as the samples branch will record them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BookCase {
    pub id: i64,
    pub classification: CaseClass,
    pub state: CaseState,
    pub active: bool,
    pub source: CaseSource,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub quarantine_until: Option<NaiveDate>,
    pub opened_at: Instant,
}

impl From<&CaseRecord> for BookCase {
    fn from(c: &CaseRecord) -> BookCase {
        BookCase {
            id: c.id,
            classification: c.classification,
            state: c.state,
            active: c.active,
            source: c.source,
            onset_date: c.onset_date,
            sample_date: c.sample_date,
            quarantine_until: c.quarantine_until,
            opened_at: c.created_at,
        }
    }
}

/// The signed-in resident's own book; audited.
pub async fn mine(st: &AppState, who: &Principal, lang: Lang) -> ApiResult<HealthBookView> {
    let id = crate::services::resident::resident_of(who)?;
    let person = st.store.resident(&id).await?.ok_or_else(|| {
        crate::error::ApiError::not_found(format!("{id} is no longer in the registry"))
    })?;
    let book = build(st, &person, lang).await?;
    st.store
        .audit(
            &who.actor,
            "health_book.read.own",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    Ok(book)
}

/// A person's book for staff inside their jurisdiction (404 outside it, as other reads of people); audited.
pub async fn of(
    st: &AppState,
    who: &Principal,
    citizen: &str,
    lang: Lang,
) -> ApiResult<HealthBookView> {
    require_role(who, READERS)?;
    let person = crate::services::vaccination::person_in_reach(st, who, citizen).await?;
    let book = build(st, &person, lang).await?;
    st.store
        .audit(
            &who.actor,
            "health_book.read",
            &format!("citizen:{}", person.citizen_id),
            "",
        )
        .await?;
    Ok(book)
}

/// The signed-in resident's book as a FHIR document Bundle; audited as the JSON book.
pub async fn mine_document(st: &AppState, who: &Principal) -> ApiResult<Document> {
    let id = crate::services::resident::resident_of(who)?;
    let person = st.store.resident(&id).await?.ok_or_else(|| {
        crate::error::ApiError::not_found(format!("{id} is no longer in the registry"))
    })?;
    let doc = document(st, &person).await?;
    st.store
        .audit(
            &who.actor,
            "health_book.fhir.own",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    Ok(doc)
}

/// A person's book as a FHIR document Bundle, for staff inside their jurisdiction; audited.
pub async fn of_document(st: &AppState, who: &Principal, citizen: &str) -> ApiResult<Document> {
    require_role(who, READERS)?;
    let person = crate::services::vaccination::person_in_reach(st, who, citizen).await?;
    let doc = document(st, &person).await?;
    st.store
        .audit(
            &who.actor,
            "health_book.fhir",
            &format!("citizen:{}", person.citizen_id),
            "",
        )
        .await?;
    Ok(doc)
}

/// The document: the Composition, the Patient, their doses, the readings of their daily updates and their
/// test results.
async fn document(st: &AppState, person: &RegistryRecord) -> ApiResult<Document> {
    let doses = st.store.doses_of(&person.citizen_id).await?;
    let doses: Vec<_> = doses
        .iter()
        .map(crate::services::fhir::immunization_out)
        .collect();
    let updates = st.store.health_updates_of(&person.citizen_id, 0).await?;
    let mut samples = st.store.samples_of(&person.citizen_id, None).await?;
    // Oldest first, as the doses and the updates.
    samples.reverse();
    let results: Vec<_> = samples
        .iter()
        .filter_map(crate::services::fhir::lab::out)
        .collect();
    let lang = Lang::Vi;
    Ok(crate::fhir::document::health_book(&Parts {
        person,
        place: crate::services::fhir::place(st, person),
        citizen_system: st.citizen_system(),
        doses: &doses,
        updates: &updates,
        results: &results,
        author: st.authority().department,
        title: T::HealthBookTitle.text(lang).to_owned(),
        vaccinations_title: T::Vaccinations.text(lang).to_owned(),
        updates_title: T::HealthUpdates.text(lang).to_owned(),
        results_title: T::Samples.text(lang).to_owned(),
        now: chrono::Utc::now().timestamp(),
    }))
}

/// Everything on one person, read without an audit row (the callers write it).
pub async fn build(
    st: &AppState,
    person: &RegistryRecord,
    lang: Lang,
) -> ApiResult<HealthBookView> {
    let id = &person.citizen_id;
    let now = chrono::Utc::now().timestamp();
    let today = st.rules.tracing.local_date(now);
    let declarations = st.store.declarations_of(id).await?;
    let passes = st.store.passes_of(id).await?;
    let visits = st
        .store
        .visits_of(id.as_str(), now - VISIT_DAYS * 86_400, VISIT_LIMIT)
        .await?;
    let visits = crate::services::resident::visit_views(st, &visits).await?;
    let doses = st.store.doses_of(id).await?;
    let cases = st.store.cases_of(id).await?;
    let follow_ups = st.store.follow_ups_of(id).await?;
    let updates = st.store.health_updates_of(id, 0).await?;
    let samples = samples_of(st, id, lang).await?;
    let status = status_of(st, &declarations, &cases, &updates, &samples, today, lang);
    Ok(HealthBookView {
        person: BookPerson {
            citizen_id: id.to_string(),
            full_name: person.full_name.as_str().to_owned(),
            date_of_birth: person.date_of_birth,
            sex: person.sex,
            commune_code: person.commune_code.to_string(),
            commune_name: super::people::unit_name(st, person.commune_code.as_str()),
            address: person.address.clone(),
            phone: person.phone.as_ref().map(|p| p.masked()),
        },
        status,
        declarations,
        passes: passes.iter().map(|p| book_pass(p, now)).collect(),
        visits,
        samples,
        vaccinations: doses.iter().map(|d| DoseView::of(d, lang)).collect(),
        cases: cases.iter().map(BookCase::from).collect(),
        follow_ups,
        health_updates: updates,
    })
}

/// The person's samples and results.
async fn samples_of(
    st: &AppState,
    citizen: &CitizenId,
    lang: Lang,
) -> ApiResult<Vec<super::testing::MySample>> {
    let found = st.store.samples_of(citizen, None).await?;
    Ok(found
        .iter()
        .map(|s| super::testing::MySample::of(s, st, lang))
        .collect())
}

/// The newest result, when it is positive and within the rules' window: a PCR positive makes red (its case is
/// a reason too once opened), a rapid antigen positive the rules' colour until a PCR settles it.
fn positive_result(
    st: &AppState,
    samples: &[super::testing::MySample],
    now: i64,
    lang: Lang,
) -> Option<Reason> {
    let window = i64::from(st.rules.health_updates.symptoms_count_days) * 86_400;
    let (sample, result) = samples
        .iter()
        .filter_map(|s| s.result.as_ref().map(|r| (s, r)))
        .max_by_key(|(_, r)| r.tested_at.0)?;
    if result.result != kiemdich_domain::TestResult::Positive || result.tested_at.0 < now - window {
        return None;
    }
    Some(Reason {
        kind: ReasonKind::PositiveResult,
        colour: match sample.test_type {
            kiemdich_domain::TestType::Pcr => HealthStatus::Red,
            kiemdich_domain::TestType::RapidAntigen => {
                st.rules.testing.rapid_antigen_positive.status
            }
        },
        since: st.rules.tracing.local_date(result.tested_at.0),
        until: None,
        detail: fill(
            T::ReasonPositiveResult.text(lang),
            &[("test", &sample.test_name), ("lab", &result.lab)],
        ),
    })
}

fn book_pass(p: &PassRecord, now: i64) -> BookPass {
    BookPass {
        pass_id: p.id.clone(),
        status: p.status,
        issued_at: Instant(p.issued_at),
        expires_at: Instant(p.expires_at),
        live: p.revoked_at.is_none() && p.expires_at > now,
        revoke_reason: p.revoke_reason.clone(),
    }
}

/// The colour now and why: every active case (F0 or suspected open, F1 until its quarantine ends, F2), what
/// the latest declaration declared, and symptoms reported in daily updates after it within the rules' window.
/// The colour is the most restrictive of the reasons, green without any.
fn status_of(
    st: &AppState,
    declarations: &[DeclarationLine],
    cases: &[CaseRecord],
    updates: &[HealthUpdateRecord],
    samples: &[super::testing::MySample],
    today: NaiveDate,
    lang: Lang,
) -> BookStatus {
    let clock = &st.rules.tracing;
    let list = |names: Vec<&str>| names.join(", ");
    let mut reasons = Vec::new();
    for c in cases.iter().filter(|c| c.active) {
        let class = c.classification.name(lang);
        let (kind, text) = match c.classification {
            CaseClass::F0 | CaseClass::Suspected => (ReasonKind::OpenCase, T::ReasonOpenCase),
            CaseClass::F1 | CaseClass::F2 => (ReasonKind::Contact, T::ReasonContact),
        };
        if c.classification == CaseClass::F1 && c.quarantine_until.is_some_and(|d| d < today) {
            continue;
        }
        reasons.push(Reason {
            kind,
            colour: c.classification.status(),
            since: clock.local_date(c.created_at.0),
            until: c.quarantine_until,
            detail: fill(text.text(lang), &[("class", class)]),
        });
    }
    let latest = declarations.first();
    if let Some(d) = latest {
        let since = clock.local_date(d.submitted_at.0);
        if !d.symptoms.is_empty() {
            reasons.push(Reason {
                kind: ReasonKind::DeclaredSymptom,
                colour: HealthStatus::from_reported(&d.symptoms, &[]),
                since,
                until: None,
                detail: fill(
                    T::ReasonDeclaredSymptoms.text(lang),
                    &[(
                        "list",
                        &list(d.symptoms.iter().map(|s| s.name(lang)).collect()),
                    )],
                ),
            });
        }
        if !d.exposures.is_empty() {
            reasons.push(Reason {
                kind: ReasonKind::DeclaredExposure,
                colour: HealthStatus::from_reported(&[], &d.exposures),
                since,
                until: None,
                detail: fill(
                    T::ReasonDeclaredExposure.text(lang),
                    &[(
                        "list",
                        &list(d.exposures.iter().map(|s| s.name(lang)).collect()),
                    )],
                ),
            });
        }
    }
    let window = i64::from(st.rules.health_updates.symptoms_count_days) * 86_400;
    let after = latest.map_or(0, |d| d.submitted_at.0);
    let now = chrono::Utc::now().timestamp();
    if let Some(u) = updates
        .iter()
        .find(|u| !u.symptoms.is_empty() && u.at.0 >= after && u.at.0 >= now - window)
    {
        reasons.push(Reason {
            kind: ReasonKind::ReportedSymptom,
            colour: HealthStatus::from_reported(&u.symptoms, &[]),
            since: u.day,
            until: None,
            detail: fill(
                T::ReasonReportedSymptoms.text(lang),
                &[(
                    "list",
                    &list(u.symptoms.iter().map(|s| s.name(lang)).collect()),
                )],
            ),
        });
    }
    reasons.extend(positive_result(st, samples, now, lang));
    let colour = reasons
        .iter()
        .map(|r| r.colour)
        .max()
        .unwrap_or(HealthStatus::Green);
    BookStatus { colour, reasons }
}
