//! Laboratory results on the facade: a transaction of Specimen + Observation + DiagnosticReport entries becomes
//! the same result lines a laboratory enters (`POST /api/v1/results`) and goes through the same store checks
//! and the same recording, with all its effects, in one transaction; a person's results are read back as the
//! three resources. Every read is audited.

use super::{FhirError, FhirResult, Issue, Problem};
use crate::AppState;
use crate::fhir::bundle::{Bundle, EntryResource, TransactionEntry};
use crate::fhir::lab::{LabEntry, LabResultIn, LabResultOut, ObservationIn, ReportIn, SpecimenIn};
use crate::fhir::patient::Token;
use crate::services::testing::LABS;
use kiemdich_domain::catalogue::Problem as FieldProblem;
use kiemdich_domain::testing::{LabelKind, RawResult, label};
use kiemdich_domain::{CitizenId, FieldError, ResultSource};
use kiemdich_store::{LineCheck, Principal, ResultOutcome, SampleRecord};
use std::collections::{HashMap, HashSet};

/// The laboratory entries of one transaction.
#[derive(Debug, Default)]
pub struct LabEntries {
    pub specimens: Vec<LabEntry<SpecimenIn>>,
    pub observations: Vec<LabEntry<ObservationIn>>,
    pub reports: Vec<LabEntry<ReportIn>>,
}

impl LabEntries {
    pub fn is_empty(&self) -> bool {
        self.specimens.is_empty() && self.observations.is_empty() && self.reports.is_empty()
    }
}

/// Records the results of a transaction (lab, health, admin; every sample's person in the caller's
/// jurisdiction, else 403), all or nothing: a result already stored is answered `200 OK` and changes nothing.
pub async fn transaction(
    st: &AppState,
    who: &Principal,
    entries: &[TransactionEntry],
    lab: LabEntries,
    now: i64,
) -> FhirResult<Bundle> {
    crate::auth::require_role(who, LABS).map_err(FhirError::from)?;
    let results = crate::fhir::lab::link(&lab.specimens, &lab.observations, &lab.reports)
        .map_err(FhirError::issues)?;
    let created = record(st, who, &results, now).await?;
    st.store
        .audit(
            &who.actor,
            "fhir.transaction",
            &who.actor,
            &format!(
                "{} laboratory results, {} new",
                results.len(),
                created.values().filter(|c| **c).count()
            ),
        )
        .await?;
    // Every entry answers with its result's sample, the logical id of the three resources.
    let mut sample_of: HashMap<usize, i64> = HashMap::new();
    for r in &results {
        sample_of.insert(r.specimen_entry, r.sample_id);
        sample_of.insert(r.observation_entry, r.sample_id);
    }
    for d in &lab.reports {
        let first = d.resource.results.first().and_then(|url| {
            lab.observations
                .iter()
                .find(|o| o.full_url.as_deref() == Some(url.as_str()))
        });
        if let Some(sample) = first.and_then(|o| sample_of.get(&o.index).copied()) {
            sample_of.insert(d.index, sample);
        }
    }
    let mut answers = Vec::with_capacity(entries.len());
    for (i, e) in entries.iter().enumerate() {
        let kind = match e {
            TransactionEntry::Specimen(_) => "Specimen",
            TransactionEntry::Observation(_) => "Observation",
            TransactionEntry::DiagnosticReport(_) => "DiagnosticReport",
            TransactionEntry::Immunization(_) => "Immunization",
        };
        let sample = sample_of
            .get(&i)
            .copied()
            .ok_or_else(|| FhirError::internal(format!("entry {i} has no sample")))?;
        answers.push((
            created.get(&sample).copied().unwrap_or(false),
            format!("{kind}/{sample}"),
        ));
    }
    Ok(Bundle::transaction_answer(answers, now))
}

/// Checks the results as a laboratory's entered ones are checked, then the facade's own checks (the caller's
/// jurisdiction, the patient and test of the sample), and records the new ones in one transaction: for each
/// sample, whether its result is new.
async fn record(
    st: &AppState,
    who: &Principal,
    results: &[LabResultIn],
    now: i64,
) -> FhirResult<HashMap<i64, bool>> {
    let raws: Vec<RawResult> = results.iter().map(raw).collect();
    let lines = st
        .store
        .check_results(&raws, &st.rules, ResultSource::Fhir, now)
        .await?;
    let ids: Vec<i64> = results.iter().map(|r| r.sample_id).collect();
    let samples: HashMap<i64, SampleRecord> = st
        .store
        .samples(&ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    let mut issues = Vec::new();
    let mut seen = HashSet::new();
    let mut ready = Vec::new();
    let mut created = HashMap::new();
    for (r, line) in results.iter().zip(lines) {
        if !seen.insert(r.sample_id) {
            issues.push(Issue::new(
                Problem::BusinessRule,
                r.specimen_at(),
                "one result per sample: this sample comes twice in the transaction",
            ));
            continue;
        }
        let target = match line {
            LineCheck::Bad(errs) => {
                issues.extend(errs.0.iter().map(|e| field_issue(r, e)));
                continue;
            }
            LineCheck::Same(target) => {
                created.insert(r.sample_id, false);
                target
            }
            LineCheck::Ready(checked, target) => {
                created.insert(r.sample_id, true);
                ready.push(checked);
                target
            }
        };
        if !target.communes.iter().all(|c| st.reaches(who, c)) {
            issues.push(Issue::new(
                Problem::Forbidden,
                r.specimen_at(),
                "this sample's person lives outside your jurisdiction",
            ));
            continue;
        }
        let Some(sample) = samples.get(&r.sample_id) else {
            issues.push(Issue::new(
                Problem::UnknownReference,
                r.specimen_at(),
                "no such sample",
            ));
            continue;
        };
        if sample.citizen_id != r.citizen_id {
            issues.push(Issue::new(
                Problem::BusinessRule,
                r.observation_at("subject"),
                format!(
                    "sample {} was taken from another person",
                    label(LabelKind::Sample, r.sample_id)
                ),
            ));
        }
        if sample.test_type != r.test_type {
            issues.push(Issue::new(
                Problem::BusinessRule,
                r.observation_at("code"),
                format!(
                    "sample {} was taken for a {} test",
                    label(LabelKind::Sample, r.sample_id),
                    sample.test_type.as_str()
                ),
            ));
        }
    }
    if !issues.is_empty() {
        return Err(FhirError::issues(issues));
    }
    if ready.is_empty() {
        return Ok(created);
    }
    let outcomes = st
        .store
        .record_results(&ready, &st.rules, &who.actor)
        .await?;
    // A result stored meanwhile by someone else: the store kept it.
    if outcomes
        .iter()
        .any(|o| matches!(o, ResultOutcome::Differs(_)))
    {
        return Err(FhirError::new(
            Problem::Conflict,
            "another result was stored for one of these samples meanwhile",
        ));
    }
    Ok(created)
}

/// The result line a laboratory would enter for `r`.
fn raw(r: &LabResultIn) -> RawResult {
    RawResult {
        sample_id: label(LabelKind::Sample, r.sample_id),
        result: r.result.as_str().to_owned(),
        tested_at: r.tested_at.clone(),
        lab: r.lab.clone(),
        ct: r.ct.map(|c| c.to_string()).unwrap_or_default(),
    }
}

/// A result entry's refusal of one field, at the element of the resource it came from.
fn field_issue(r: &LabResultIn, e: &FieldError) -> Issue {
    let problem = match e.code {
        FieldProblem::UnknownSample => Problem::UnknownReference,
        _ => Problem::BusinessRule,
    };
    let path = match e.field.as_str() {
        "sample_id" => r.specimen_at(),
        "tested_at" => r.observation_at(r.tested_at_element),
        "lab" => r.observation_at("performer"),
        "ct" => r
            .ct_element
            .clone()
            .unwrap_or_else(|| r.observation_at("component")),
        _ => r.observation_at("valueCodeableConcept"),
    };
    Issue::new(problem, path, format!("{}: {}", e.field, e.message))
}

/// A stored sample's result as the facade writes it, if it has one of its own.
pub(crate) fn out(s: &SampleRecord) -> Option<LabResultOut> {
    let r = s.result.as_ref()?;
    Some(LabResultOut {
        sample_id: s.id,
        citizen_id: s.citizen_id,
        test_type: s.test_type,
        collected_at: s.collected_at.map(|t| t.0),
        result: r.result,
        tested_at: r.tested_at.0,
        lab: r.lab.clone(),
        ct: r.ct.map(kiemdich_domain::Ct::value),
    })
}

/// Which resource of a result a search or read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabResource {
    Specimen,
    Observation,
    DiagnosticReport,
}

impl LabResource {
    pub fn name(self) -> &'static str {
        match self {
            LabResource::Specimen => "Specimen",
            LabResource::Observation => "Observation",
            LabResource::DiagnosticReport => "DiagnosticReport",
        }
    }

    fn audit(self, what: &str) -> String {
        format!("fhir.{}.{what}", self.name().to_ascii_lowercase())
    }

    fn resource(self, r: &LabResultOut, system: &str) -> EntryResource {
        match self {
            LabResource::Specimen => EntryResource::Specimen(Box::new(r.specimen(system))),
            LabResource::Observation => EntryResource::Observation(Box::new(r.observation(system))),
            LabResource::DiagnosticReport => {
                EntryResource::DiagnosticReport(Box::new(r.report(system)))
            }
        }
    }
}

/// `GET /fhir/Observation?patient=` (or DiagnosticReport): the results of the person the token names, if in
/// the caller's jurisdiction, oldest first; audited.
pub async fn search(
    st: &AppState,
    who: &Principal,
    kind: LabResource,
    token: &Token,
) -> FhirResult<Vec<EntryResource>> {
    let Some(id) = token.citizen(st.citizen_system()) else {
        return Ok(Vec::new());
    };
    let Some(_) = super::in_reach(st, who, &id).await? else {
        return Ok(Vec::new());
    };
    st.store
        .audit(
            &who.actor,
            &kind.audit("search"),
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    let mut samples = st.store.samples_of(&id, None).await?;
    samples.reverse();
    Ok(samples
        .iter()
        .filter_map(out)
        .map(|r| kind.resource(&r, st.citizen_system()))
        .collect())
}

/// `GET /fhir/Observation/{id}` (or Specimen, DiagnosticReport): one result by its sample's id; 404 when
/// unknown, without a result, or outside the caller's jurisdiction alike; audited.
pub async fn read(
    st: &AppState,
    who: &Principal,
    kind: LabResource,
    id: &str,
) -> FhirResult<EntryResource> {
    let not_found = || {
        FhirError::new(
            Problem::NotFound,
            format!("no {}/{id} in your jurisdiction", kind.name()),
        )
    };
    let sample_id: i64 = id.parse().map_err(|_| not_found())?;
    let found = st
        .store
        .samples(&[sample_id])
        .await?
        .into_iter()
        .find(|s| st.reaches(who, s.commune_code.as_str()));
    let result = found.as_ref().and_then(out).ok_or_else(not_found)?;
    st.store
        .audit(
            &who.actor,
            &kind.audit("read"),
            &format!("citizen:{}", result.citizen_id),
            &format!("sample:{sample_id}"),
        )
        .await?;
    Ok(kind.resource(&result, st.citizen_system()))
}

/// The person a `patient` search parameter names: `Patient/CITIZEN_ID` (a base URL before it is allowed) or
/// the citizen id alone.
pub fn patient_param(value: &str) -> Token {
    let id = value
        .rsplit_once("Patient/")
        .map_or(value, |(_, id)| id)
        .trim();
    Token {
        system: crate::fhir::patient::TokenSystem::Any,
        value: CitizenId::parse(id).map_or_else(|_| id.to_owned(), |c| c.as_str().to_owned()),
    }
}
