//! The FHIR facade's service: who may use it, the registry's people as Patients, and transactions of doses
//! (laboratory results are [`lab`]'s).
//! Every read of a person is audited; nothing here creates or changes a registry record.
//!
//! The dose store sits behind two functions, [`record_doses`] and [`doses_of`]: the facade checks everything
//! (shape, codes, references, the person in the caller's jurisdiction, dates against birth) before it calls
//! them, and they answer in plain structs ([`ImmunizationIn`] in, [`Recorded`] and [`ImmunizationOut`] out).

use crate::AppState;
use crate::fhir::bundle::{Bundle, EntryResource, TransactionEntry, read_transaction};
use crate::fhir::immunization::CheckContext;
use crate::fhir::patient::{Patient, Place, Token};
use crate::fhir::{
    FhirError, FhirResult, ImmunizationIn, ImmunizationOut, Issue, Problem, Recorded,
};
use crate::services::vaccination;

pub mod lab;
use kiemdich_domain::catalogue::Lang;
use kiemdich_domain::{CitizenId, DoseSource, RawDose, RegistryRecord, UnitLevel};
use kiemdich_store::DoseOutcome;
use kiemdich_store::{Principal, Role};
use std::collections::HashMap;

/// Who may read people and doses and send doses: health staff, administrators, and system feeds (integration
/// tokens).
pub const FHIR_ROLES: &[Role] = &[Role::Health, Role::Admin, Role::Integration];

/// Who may use the facade at all: [`FHIR_ROLES`] and laboratories, which send and read results only.
pub const FACADE_ROLES: &[Role] = &[Role::Health, Role::Admin, Role::Integration, Role::Lab];

/// The principal if it may use the facade, else 403.
pub fn require_facade(who: &Principal) -> FhirResult<&Principal> {
    crate::auth::require_role(who, FACADE_ROLES).map_err(FhirError::from)
}

/// The principal if it may read people and doses, else 403.
pub fn require(who: &Principal) -> FhirResult<&Principal> {
    crate::auth::require_role(who, FHIR_ROLES).map_err(FhirError::from)
}

/// The facade's base URL (`https://…/fhir`), when the server knows its public address.
pub fn base(st: &AppState) -> Option<String> {
    st.public_url()
        .map(|u| format!("{}{}", u.origin(), crate::fhir::BASE_PATH))
}

/// The names of the units a person of `record` lives in.
pub(crate) fn place(st: &AppState, record: &RegistryRecord) -> Place {
    let units = st.units();
    let commune = units.get(&record.commune_code);
    let mut place = Place {
        commune: commune.map(|u| u.name.clone()),
        ..Place::default()
    };
    for u in units.ancestors(&record.commune_code) {
        match u.level {
            UnitLevel::District => place.district = Some(u.name.clone()),
            UnitLevel::Province => place.province = Some(u.name.clone()),
            UnitLevel::Commune => {}
        }
    }
    place
}

/// The registry record of `id` if it lies in the caller's jurisdiction (else `None`, as for an unknown id).
async fn in_reach(
    st: &AppState,
    who: &Principal,
    id: &CitizenId,
) -> FhirResult<Option<RegistryRecord>> {
    Ok(st
        .store
        .resident(id)
        .await?
        .filter(|r| st.reaches(who, r.commune_code.as_str())))
}

/// `GET /fhir/Patient?identifier=`: the person the token names, if in the caller's jurisdiction (a searchset
/// of one or none); audited.
pub async fn search_patients(
    st: &AppState,
    who: &Principal,
    token: &Token,
) -> FhirResult<Vec<Patient>> {
    require(who)?;
    let Some(id) = token.citizen(st.citizen_system()) else {
        return Ok(Vec::new());
    };
    let Some(record) = in_reach(st, who, &id).await? else {
        return Ok(Vec::new());
    };
    st.store
        .audit(
            &who.actor,
            "fhir.patient.search",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    Ok(vec![Patient::from_record(
        &record,
        st.citizen_system(),
        &place(st, &record),
    )])
}

/// `GET /fhir/Patient/{id}`: one person by their logical id (the citizen id); 404 when unknown or outside the
/// caller's jurisdiction alike; audited.
pub async fn read_patient(st: &AppState, who: &Principal, id: &str) -> FhirResult<Patient> {
    require(who)?;
    let not_found = || {
        FhirError::new(
            Problem::NotFound,
            format!("no Patient/{id} in your jurisdiction"),
        )
    };
    let id = CitizenId::parse(id).map_err(|_| not_found())?;
    let record = in_reach(st, who, &id).await?.ok_or_else(not_found)?;
    st.store
        .audit(
            &who.actor,
            "fhir.patient.read",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    Ok(Patient::from_record(
        &record,
        st.citizen_system(),
        &place(st, &record),
    ))
}

/// `GET /fhir/Immunization?patient.identifier=`: the doses of the person the token names, if in the caller's
/// jurisdiction; audited.
pub async fn search_immunizations(
    st: &AppState,
    who: &Principal,
    token: &Token,
) -> FhirResult<Vec<EntryResource>> {
    require(who)?;
    let Some(id) = token.citizen(st.citizen_system()) else {
        return Ok(Vec::new());
    };
    let Some(_) = in_reach(st, who, &id).await? else {
        return Ok(Vec::new());
    };
    st.store
        .audit(
            &who.actor,
            "fhir.immunization.search",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    let doses = doses_of(st, &id).await?;
    Ok(doses
        .iter()
        .map(|d| EntryResource::Immunization(Box::new(d.resource(st.citizen_system()))))
        .collect())
}

/// `POST /fhir` with a transaction Bundle of Immunizations: every entry checked (parsed off the async workers),
/// every patient found in the caller's jurisdiction, every dose on or after its person's birth; then all
/// recorded at once. Any problem refuses the whole transaction, naming each entry at fault.
pub async fn transaction(
    st: &AppState,
    who: &Principal,
    body: axum::body::Bytes,
) -> FhirResult<Bundle> {
    let now = chrono::Utc::now().timestamp();
    let system: String = st.citizen_system().to_owned();
    let offset = st.rules.tracing.utc_offset_hours;
    let today = st.rules.tracing.local_date(now);
    let entries = tokio::task::spawn_blocking(move || {
        let cx = CheckContext {
            citizen_system: &system,
            today,
            utc_offset_hours: offset,
        };
        read_transaction(&body, cx)
    })
    .await
    .map_err(FhirError::internal)??;
    let mut doses: Vec<ImmunizationIn> = Vec::new();
    let mut lab = lab::LabEntries::default();
    for e in &entries {
        match e {
            TransactionEntry::Immunization(d) => doses.push(d.clone()),
            TransactionEntry::Specimen(s) => lab.specimens.push(s.clone()),
            TransactionEntry::Observation(o) => lab.observations.push(o.clone()),
            TransactionEntry::DiagnosticReport(d) => lab.reports.push(d.clone()),
        }
    }
    if !lab.is_empty() {
        if !doses.is_empty() {
            return Err(FhirError::at(
                Problem::Unsupported,
                "Bundle.entry",
                "send doses and laboratory results in separate transactions",
            ));
        }
        return lab::transaction(st, who, &entries, lab, now).await;
    }
    require(who)?;
    check_people(st, who, &doses).await?;
    let recorded = record_doses(st, who, doses.clone()).await?;
    if recorded.len() != doses.len() {
        return Err(FhirError::internal(format!(
            "the dose store answered {} outcomes for {} doses",
            recorded.len(),
            doses.len()
        )));
    }
    st.store
        .audit(
            &who.actor,
            "fhir.transaction",
            &who.actor,
            &format!("{} Immunization entries", doses.len()),
        )
        .await?;
    Ok(Bundle::transaction_response(&recorded, now))
}

/// Every dose's person is in the registry of the caller's jurisdiction (an unknown person and one outside
/// answer alike), and no dose is dated before its person's birth.
async fn check_people(st: &AppState, who: &Principal, doses: &[ImmunizationIn]) -> FhirResult<()> {
    let mut ids: Vec<String> = doses
        .iter()
        .map(|d| d.citizen_id.as_str().to_owned())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let people: HashMap<String, RegistryRecord> = st
        .store
        .residents(&ids)
        .await?
        .into_iter()
        .filter(|r| st.reaches(who, r.commune_code.as_str()))
        .map(|r| (r.citizen_id.as_str().to_owned(), r))
        .collect();
    let mut issues = Vec::new();
    for (i, d) in doses.iter().enumerate() {
        let at = format!("Bundle.entry[{i}].resource");
        match people.get(d.citizen_id.as_str()) {
            None => issues.push(Issue::new(
                Problem::UnknownReference,
                format!("{at}.patient"),
                format!(
                    "{} is not in the registry of your jurisdiction; the facade never creates a person",
                    d.citizen_id.masked()
                ),
            )),
            Some(p) if d.date < p.date_of_birth => issues.push(Issue::new(
                Problem::BusinessRule,
                format!("{at}.occurrenceDateTime"),
                format!("{} is before the person's birth", d.date),
            )),
            Some(_) => {}
        }
    }
    if issues.is_empty() {
        Ok(())
    } else {
        Err(FhirError::issues(issues))
    }
}

/// Records the doses of one transaction, all or nothing, in the order given: for each, [`Recorded::Created`]
/// with the new dose's id or [`Recorded::Unchanged`] with the stored one's; a dose that conflicts with a stored
/// one refuses them all ([`Problem::Conflict`] at `Bundle.entry[i].resource`). Every dose passed the facade's
/// checks and its person is in `who`'s jurisdiction.
pub async fn record_doses(
    st: &AppState,
    who: &Principal,
    doses: Vec<ImmunizationIn>,
) -> FhirResult<Vec<Recorded>> {
    let raws: Vec<RawDose> = doses.iter().map(raw_dose).collect();
    let checked = st
        .store
        .check_doses(&raws, DoseSource::Fhir, &st.rules, vaccination::today(st))
        .await?;
    let mut new = Vec::with_capacity(checked.len());
    let mut issues = Vec::new();
    for (i, c) in checked.into_iter().enumerate() {
        match c {
            Ok(c) => new.push(c.dose),
            Err(errs) => issues.extend(errs.0.iter().map(|e| field_issue(i, e))),
        }
    }
    if !issues.is_empty() {
        return Err(FhirError::issues(issues));
    }
    let outcomes = st
        .store
        .record_doses_all_or_nothing(&new, &who.actor)
        .await?;
    let conflicts: Vec<Issue> = outcomes
        .iter()
        .enumerate()
        .filter_map(|(i, o)| match o {
            DoseOutcome::Conflict { differs, .. } => Some(Issue::new(
                Problem::Conflict,
                format!("Bundle.entry[{i}].resource"),
                format!(
                    "a dose of the same person, product and day is stored with another {}",
                    differs.join(", ")
                ),
            )),
            _ => None,
        })
        .collect();
    if !conflicts.is_empty() {
        return Err(FhirError::issues(conflicts));
    }
    Ok(new
        .iter()
        .zip(&outcomes)
        .map(|(d, o)| match o {
            DoseOutcome::Inserted => {
                Recorded::Created(logical_id(d.citizen.as_str(), d.product.mp(), d.date))
            }
            _ => Recorded::Unchanged(logical_id(d.citizen.as_str(), d.product.mp(), d.date)),
        })
        .collect())
}

/// The stored doses of a person, oldest first.
pub async fn doses_of(st: &AppState, citizen: &CitizenId) -> FhirResult<Vec<ImmunizationOut>> {
    Ok(st
        .store
        .doses_of(citizen)
        .await?
        .iter()
        .map(immunization_out)
        .collect())
}

/// A stored dose as the facade writes it (product names in English).
pub(crate) fn immunization_out(d: &kiemdich_domain::Dose) -> ImmunizationOut {
    let lang = Lang::En;
    ImmunizationOut {
        id: logical_id(d.citizen.as_str(), d.product.mp(), d.date),
        citizen_id: d.citizen,
        product: d.product.mp().to_owned(),
        product_name: Some(d.product.name(lang).to_owned()),
        dose_number: u32::from(d.dose_number),
        series_doses: u32::from(d.series_doses),
        date: d.date,
        lot: d.lot.clone(),
        site: d.site_name.clone(),
        country: d.country.as_str().to_owned(),
    }
}

/// An Immunization's logical id: derived from what makes a dose one dose (person, product, day), so it is
/// stable on every server and backend, and it does not put the citizen id in a URL.
fn logical_id(citizen: &str, mp: &str, date: chrono::NaiveDate) -> String {
    let hash = crate::auth::sha256_hex(&format!("{citizen}|{mp}|{date}"));
    hash.get(..32).unwrap_or(&hash).to_owned()
}

/// A checked Immunization in the dose records' raw form, for the records' own checks (registry, products,
/// sites), so a dose from FHIR passes exactly what a typed or imported one does.
fn raw_dose(d: &ImmunizationIn) -> RawDose {
    RawDose {
        citizen_id: d.citizen_id.as_str().to_owned(),
        product: d.product.clone(),
        dose_number: d.dose_number.to_string(),
        series_doses: d.series_doses.to_string(),
        date: d.date.to_string(),
        lot: d.lot.clone().unwrap_or_default(),
        site: d.site.clone().unwrap_or_default(),
        country: d.country.clone(),
        location_id: None,
        site_unit: String::new(),
    }
}

/// A dose record's refusal of one field, at the Immunization element it came from.
fn field_issue(entry: usize, e: &kiemdich_domain::FieldError) -> Issue {
    let (element, problem) = match e.field.as_str() {
        "product" => ("vaccineCode", Problem::CodeInvalid),
        "dose_number" | "series_doses" => ("protocolApplied", Problem::BusinessRule),
        "date" => ("occurrenceDateTime", Problem::BusinessRule),
        "lot" => ("lotNumber", Problem::Value),
        "site" => ("location", Problem::Value),
        "citizen_id" => ("patient", Problem::UnknownReference),
        _ => ("", Problem::BusinessRule),
    };
    let path = if element.is_empty() {
        format!("Bundle.entry[{entry}].resource")
    } else {
        format!("Bundle.entry[{entry}].resource.{element}")
    };
    Issue::new(problem, path, format!("{}: {}", e.field, e.message))
}
