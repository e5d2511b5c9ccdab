//! The FHIR R4 facade's routes (`/fhir`): thin handlers over [`crate::services::fhir`], every answer FHIR JSON
//! and every refusal an OperationOutcome.

use crate::AppState;
use crate::fhir::bundle::Bundle;
use crate::fhir::bundle::EntryResource;
use crate::fhir::capability::CapabilityStatement;
use crate::fhir::patient::Token;
use crate::fhir::{Fhir, FhirError, FhirResult, Problem, check_content_type, check_format};
use crate::services::fhir as service;
use crate::services::fhir::lab::{self, LabResource};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kiemdich_store::Principal;
use serde::Deserialize;

/// The caller of the facade: a live token or session of a role that may use it (401 and 403 as
/// OperationOutcomes).
pub struct FhirCaller(pub Principal);

impl FromRequestParts<AppState> for FhirCaller {
    type Rejection = FhirError;
    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> FhirResult<FhirCaller> {
        let token = crate::auth::request_token(&parts.headers)?.ok_or_else(|| {
            FhirError::new(
                Problem::Login,
                "the FHIR facade needs 'Authorization: Bearer TOKEN'",
            )
        })?;
        let who = st
            .principal_of(&token)
            .await?
            .ok_or_else(|| FhirError::new(Problem::Login, "unknown, expired or revoked token"))?;
        service::require_facade(&who)?;
        Ok(FhirCaller(who))
    }
}

/// Query parameters the facade reads; others are ignored, as FHIR's default lenient handling does.
#[derive(Debug, Default, Deserialize)]
pub struct FhirQuery {
    #[serde(rename = "_format")]
    pub format: Option<String>,
    pub identifier: Option<String>,
    #[serde(rename = "patient.identifier")]
    pub patient_identifier: Option<String>,
    pub patient: Option<String>,
}

/// The query, refused as an OperationOutcome when it cannot be read (a parameter given twice).
pub struct Params(pub FhirQuery);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = FhirError;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> FhirResult<Params> {
        axum::extract::Query::<FhirQuery>::try_from_uri(&parts.uri)
            .map(|q| Params(q.0))
            .map_err(|e| {
                FhirError::new(
                    Problem::Value,
                    format!("the query cannot be read: {}", e.body_text()),
                )
            })
    }
}

fn self_link(st: &AppState, path: &str, param: &str, value: &str) -> String {
    let query: String = url_encode(value);
    let base = service::base(st).unwrap_or_default();
    format!("{base}/{path}?{param}={query}")
}

/// Percent-encodes a query value (everything but unreserved characters).
fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `GET /fhir/metadata`.
pub async fn metadata(
    State(st): State<AppState>,
    headers: HeaderMap,
    Params(q): Params,
) -> FhirResult<Fhir<CapabilityStatement>> {
    check_format(q.format.as_deref(), &headers)?;
    Ok(Fhir(CapabilityStatement::new(
        service::base(&st),
        st.authority().department,
        crate::fhir::capability::DATE.to_owned(),
    )))
}

/// `GET /fhir/Patient?identifier=SYSTEM|CITIZEN_ID`.
pub async fn search_patients(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
) -> FhirResult<Fhir<Bundle>> {
    check_format(q.format.as_deref(), &headers)?;
    let identifier = required_token(q.identifier, "Patient", "identifier")?;
    let found = service::search_patients(&st, &who, &Token::parse(&identifier)).await?;
    let matches = found
        .into_iter()
        .map(|p| crate::fhir::bundle::EntryResource::Patient(Box::new(p)))
        .collect();
    Ok(Fhir(searchset(
        &st,
        matches,
        "Patient",
        "identifier",
        &identifier,
    )))
}

/// A search's token parameter, which every search here needs.
fn required_token(value: Option<String>, resource: &str, param: &str) -> FhirResult<String> {
    value.filter(|i| !i.trim().is_empty()).ok_or_else(|| {
        FhirError::new(
            Problem::Required,
            format!("{resource} search needs {param}=SYSTEM|CITIZEN_ID (or the citizen id alone)"),
        )
    })
}

/// The searchset Bundle of `matches`, linked to the search that found them.
fn searchset(
    st: &AppState,
    matches: Vec<crate::fhir::bundle::EntryResource>,
    resource: &str,
    param: &str,
    identifier: &str,
) -> Bundle {
    Bundle::searchset(
        matches,
        self_link(st, resource, param, identifier),
        service::base(st).as_deref(),
        chrono::Utc::now().timestamp(),
    )
}

/// `GET /fhir/Patient/{id}`.
pub async fn read_patient(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
    Path(id): Path<String>,
) -> FhirResult<Fhir<crate::fhir::patient::Patient>> {
    check_format(q.format.as_deref(), &headers)?;
    Ok(Fhir(service::read_patient(&st, &who, &id).await?))
}

/// `GET /fhir/Immunization?patient.identifier=SYSTEM|CITIZEN_ID`.
pub async fn search_immunizations(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
) -> FhirResult<Fhir<Bundle>> {
    check_format(q.format.as_deref(), &headers)?;
    let identifier = required_token(q.patient_identifier, "Immunization", "patient.identifier")?;
    let matches = service::search_immunizations(&st, &who, &Token::parse(&identifier)).await?;
    Ok(Fhir(searchset(
        &st,
        matches,
        "Immunization",
        "patient.identifier",
        &identifier,
    )))
}

/// `POST /fhir` with a transaction Bundle.
pub async fn transaction(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, FhirError> {
    check_format(q.format.as_deref(), &headers)?;
    check_content_type(&headers)?;
    let body = body.map_err(|r| FhirError::from(crate::error::ApiError::from(r)))?;
    let answer = service::transaction(&st, &who, body).await?;
    Ok((StatusCode::OK, Fhir(answer)).into_response())
}

/// A results search's person: `patient=Patient/CITIZEN_ID` (or the id alone) or
/// `patient.identifier=SYSTEM|CITIZEN_ID`; the parameter and value for the self link, and the token.
fn patient_of(q: FhirQuery, resource: &str) -> FhirResult<(&'static str, String, Token)> {
    match (
        q.patient.filter(|p| !p.trim().is_empty()),
        q.patient_identifier,
    ) {
        (Some(p), None) => {
            let token = lab::patient_param(&p);
            Ok(("patient", p, token))
        }
        (None, identifier) => {
            let identifier = required_token(identifier, resource, "patient.identifier")?;
            let token = Token::parse(&identifier);
            Ok(("patient.identifier", identifier, token))
        }
        (Some(_), Some(_)) => Err(FhirError::new(
            Problem::Value,
            "name the patient once: patient or patient.identifier",
        )),
    }
}

async fn search_results(
    st: &AppState,
    who: &Principal,
    headers: &HeaderMap,
    q: FhirQuery,
    kind: LabResource,
) -> FhirResult<Fhir<Bundle>> {
    check_format(q.format.as_deref(), headers)?;
    let (param, value, token) = patient_of(q, kind.name())?;
    let matches = lab::search(st, who, kind, &token).await?;
    Ok(Fhir(searchset(st, matches, kind.name(), param, &value)))
}

/// `GET /fhir/Observation?patient=Patient/CITIZEN_ID` (or `patient.identifier=SYSTEM|CITIZEN_ID`).
pub async fn search_observations(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
) -> FhirResult<Fhir<Bundle>> {
    search_results(&st, &who, &headers, q, LabResource::Observation).await
}

/// `GET /fhir/DiagnosticReport?patient=Patient/CITIZEN_ID` (or `patient.identifier=SYSTEM|CITIZEN_ID`).
pub async fn search_reports(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
) -> FhirResult<Fhir<Bundle>> {
    search_results(&st, &who, &headers, q, LabResource::DiagnosticReport).await
}

async fn read_result(
    st: &AppState,
    who: &Principal,
    headers: &HeaderMap,
    q: FhirQuery,
    kind: LabResource,
    id: &str,
) -> FhirResult<Fhir<EntryResource>> {
    check_format(q.format.as_deref(), headers)?;
    Ok(Fhir(lab::read(st, who, kind, id).await?))
}

/// `GET /fhir/Observation/{id}`.
pub async fn read_observation(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
    Path(id): Path<String>,
) -> FhirResult<Fhir<EntryResource>> {
    read_result(&st, &who, &headers, q, LabResource::Observation, &id).await
}

/// `GET /fhir/DiagnosticReport/{id}`.
pub async fn read_report(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
    Path(id): Path<String>,
) -> FhirResult<Fhir<EntryResource>> {
    read_result(&st, &who, &headers, q, LabResource::DiagnosticReport, &id).await
}

/// `GET /fhir/Specimen/{id}`.
pub async fn read_specimen(
    State(st): State<AppState>,
    FhirCaller(who): FhirCaller,
    headers: HeaderMap,
    Params(q): Params,
    Path(id): Path<String>,
) -> FhirResult<Fhir<EntryResource>> {
    read_result(&st, &who, &headers, q, LabResource::Specimen, &id).await
}
