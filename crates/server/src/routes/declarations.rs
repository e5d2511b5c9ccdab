//! Declarations: one person or a family, by an officer (bearer token) or by the resident with a one-time code
//! sent to the phone the registry holds. Each person is checked against the registry; a matched person with
//! consent gets a signed pass that supersedes their previous one.

use super::{Body, rfc3339};
use crate::AppState;
use crate::auth::{MaybeStaff, Staff};
use crate::error::{ApiError, ApiResult};
use crate::metrics::Metrics;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{Datelike, Duration, Utc};
use kiemdich_domain::declaration::RawPerson;
use kiemdich_domain::{
    CitizenId, DeclaredPerson, FieldErrors, HealthStatus, IdentityCheck, Submitter, UnitLevel,
};
use kiemdich_pass::{Holder, PassClaims, PassId, SigningKey, encode};
use kiemdich_store::{NewDeclaration, NewPass, PersonOutcome, Principal, Role};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashSet;

/// A family submission is a household; more than this is a list import, not a declaration.
const MAX_PEOPLE: usize = 20;

#[derive(Deserialize)]
pub struct OtpRequest {
    citizen_id: String,
}

#[derive(Deserialize, serde::Serialize, Clone)]
pub struct OtpAnswer {
    pub challenge_id: i64,
    pub code: String,
}

#[derive(Deserialize, serde::Serialize)]
pub struct DeclarationBody {
    people: Vec<RawPerson>,
    #[serde(default)]
    consent: bool,
    #[serde(default, skip_serializing)]
    otp: Option<OtpAnswer>,
}

/// Codes are stored hashed, bound to the citizen they were sent to.
fn code_hash(citizen_id: &str, code: &str) -> String {
    crate::auth::sha256_hex(&format!("{citizen_id}:{code}"))
}

fn six_digits() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    format!("{:06}", u32::from_le_bytes(b) % 1_000_000)
}

/// Sends a one-time code to the phone in the registry for this citizen id.
pub async fn send_otp(
    State(st): State<AppState>,
    Body(req): Body<OtpRequest>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let id = CitizenId::parse(&req.citizen_id).map_err(|e| ApiError::field("citizen_id", e))?;
    let record = st.store.resident(&id).await?.ok_or_else(|| {
        ApiError::not_found(format!(
            "{id} is not in the population registry; a commune officer can help"
        ))
    })?;
    let phone = record.phone.ok_or_else(|| {
        ApiError::field(
            "citizen_id",
            "the registry holds no phone for this person; a commune officer can declare for them",
        )
    })?;
    let code = six_digits();
    let sms = format!(
        "kiemdich: ma xac nhan khai bao y te cua ban la {code}. Het han sau {} phut.",
        st.rules.otp_ttl_seconds / 60
    );
    let (challenge_id, expires_at) = st
        .store
        .create_otp(
            id.as_str(),
            &code_hash(id.as_str(), &code),
            i64::from(st.rules.otp_ttl_seconds),
            i64::from(st.rules.otp_max_sends_per_hour),
            phone.as_str(),
            &sms,
        )
        .await
        .map_err(|e| match e {
            kiemdich_store::StoreError::Invalid(m) => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", m)
            }
            e => e.into(),
        })?;
    Metrics::inc(&st.metrics.otp_sent);
    Ok((
        StatusCode::ACCEPTED,
        Json(
            json!({"challenge_id": challenge_id, "sent_to": phone.masked(), "expires_at": rfc3339(expires_at)}),
        ),
    ))
}

/// Checks a code; a wrong one is counted (and committed) before the request fails.
pub(crate) async fn check_otp(st: &AppState, answer: &OtpAnswer) -> ApiResult<(i64, CitizenId)> {
    let fail = |m: String| {
        Metrics::inc(&st.metrics.otp_failed);
        ApiError::field("otp", m)
    };
    let c = st
        .store
        .otp_challenge(answer.challenge_id)
        .await?
        .ok_or_else(|| fail("unknown challenge; request a new code".into()))?;
    let max = i64::from(st.rules.otp_max_attempts);
    if c.used {
        return Err(fail("this code was already used; request a new one".into()));
    }
    if c.expires_at <= Utc::now().timestamp() {
        return Err(fail("the code has expired; request a new one".into()));
    }
    if c.attempts >= max {
        return Err(fail(format!(
            "locked after {max} wrong codes; request a new one"
        )));
    }
    if code_hash(&c.citizen_id, answer.code.trim()) != c.code_hash {
        st.store.record_otp_failure(c.id).await?;
        return Err(fail(format!(
            "wrong code; {} attempts left",
            max - c.attempts - 1
        )));
    }
    let id = CitizenId::parse(&c.citizen_id).map_err(ApiError::internal)?;
    Ok((c.id, id))
}

/// Parses every person, checks communes and duplicates, and reports all problems together.
fn parse_people(st: &AppState, body: &DeclarationBody) -> ApiResult<Vec<DeclaredPerson>> {
    let mut errs = FieldErrors::default();
    if body.people.is_empty() || body.people.len() > MAX_PEOPLE {
        errs.push(
            "people",
            format!("a declaration holds 1 to {MAX_PEOPLE} people"),
        );
    }
    if !body.consent {
        errs.push(
            "consent",
            "consent to process the declared data is required",
        );
    }
    let units = st.units();
    let mut seen = HashSet::new();
    let mut people = Vec::new();
    for (i, raw) in body.people.iter().take(MAX_PEOPLE).enumerate() {
        let at = format!("people[{i}]");
        match raw.parse(&at) {
            Ok(p) => {
                if units
                    .get(&p.commune_code)
                    .is_none_or(|u| u.level != UnitLevel::Commune)
                {
                    errs.push(
                        format!("{at}.commune_code"),
                        format!("{} is not a known commune", p.commune_code),
                    );
                }
                if let Some(id) = p.citizen_id
                    && !seen.insert(id)
                {
                    errs.push(
                        format!("{at}.citizen_id"),
                        "this person appears twice in the declaration",
                    );
                }
                people.push(p);
            }
            Err(e) => errs.0.extend(e.0),
        }
    }
    errs.into_result(|| people).map_err(ApiError::invalid)
}

/// Decides who is submitting: an officer or admin inside their jurisdiction, or a resident with a valid code.
async fn submitter(
    st: &AppState,
    who: Option<Principal>,
    otp: Option<&OtpAnswer>,
    people: &[DeclaredPerson],
) -> ApiResult<(Submitter, String, Option<i64>)> {
    match (who, otp) {
        (Some(p), _) if p.role == Role::Resident => {
            let id = p
                .citizen_id
                .as_deref()
                .and_then(|c| CitizenId::parse(c).ok())
                .ok_or_else(|| ApiError::internal("resident session without a citizen id"))?;
            self_declared(people, id, None)
        }
        (Some(p), _) => {
            let staff = Staff(p);
            let p = staff.require(&[Role::Officer, Role::Admin])?;
            for person in people {
                st.check_jurisdiction(p, &person.commune_code)?;
            }
            Ok((
                Submitter::Officer {
                    actor: p.actor.clone(),
                    name: p.name.clone(),
                },
                p.actor.clone(),
                None,
            ))
        }
        (None, Some(answer)) => {
            let (challenge, id) = check_otp(st, answer).await?;
            self_declared(people, id, Some(challenge))
        }
        (None, None) => Err(ApiError::unauthorized(
            "declare with an officer's bearer token or a one-time code (POST /api/v1/otp)",
        )),
    }
}

/// A resident declares for themselves and their family: they must be one of the people declared.
fn self_declared(
    people: &[DeclaredPerson],
    id: CitizenId,
    challenge: Option<i64>,
) -> ApiResult<(Submitter, String, Option<i64>)> {
    if !people.iter().any(|p| p.citizen_id == Some(id)) {
        return Err(ApiError::field(
            "people",
            "the signed-in resident must be one of the people declared",
        ));
    }
    Ok((
        Submitter::SelfDeclared { citizen_id: id },
        format!("citizen:{id}"),
        challenge,
    ))
}

fn sign_pass(
    st: &AppState,
    key: &SigningKey,
    record: &kiemdich_domain::RegistryRecord,
    status: HealthStatus,
) -> NewPass {
    let issued = Utc::now();
    let claims = PassClaims {
        issuer: st.issuer.to_string(),
        pass_id: PassId::random(),
        issued_at: issued,
        expires_at: issued + Duration::hours(i64::from(st.rules.pass_validity_hours)),
        holder: Holder {
            name: record.full_name.as_str().to_owned(),
            birth_year: record.date_of_birth.year() as u16,
            masked_id: record.citizen_id.masked(),
            status,
            commune: record.commune_code.to_string(),
        },
    };
    NewPass {
        id: claims.pass_id.to_string(),
        citizen_id: record.citizen_id.to_string(),
        kid: key.kid().to_base64url(),
        status: status.as_str().into(),
        issued_at: claims.issued_at.timestamp(),
        expires_at: claims.expires_at.timestamp(),
        token: encode(&claims, key),
    }
}

pub async fn submit(
    State(st): State<AppState>,
    MaybeStaff(who): MaybeStaff,
    Body(body): Body<DeclarationBody>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let people = parse_people(&st, &body)?;
    let (submitter, actor, otp_challenge) = submitter(&st, who, body.otp.as_ref(), &people).await?;
    let key = st.signer().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_signing_key",
            "no signing key is active; run 'kiemdich keys generate'",
        )
    })?;
    let ids: Vec<String> = people
        .iter()
        .filter_map(|p| p.citizen_id.map(|c| c.to_string()))
        .collect();
    // An active case colours the pass whatever the form says: an F0 cannot declare themselves green.
    let cases = st.store.active_cases(&ids).await?;
    let mut outcomes = Vec::with_capacity(people.len());
    for p in &people {
        let record = match p.citizen_id {
            Some(id) => st.store.resident(&id).await?,
            None => None,
        };
        let check = p.check_identity(record.as_ref());
        let case = p
            .citizen_id
            .and_then(|c| cases.get(c.as_str()))
            .map_or(HealthStatus::Green, |c| c.status());
        let status = HealthStatus::from_declaration(p).max(case);
        let pass = match (&check, &record) {
            (IdentityCheck::Matched, Some(r)) => Some(sign_pass(&st, &key, r, status)),
            _ => None,
        };
        outcomes.push(PersonOutcome {
            citizen_id: p.citizen_id.map(|c| c.to_string()),
            commune_code: p.commune_code.to_string(),
            identity_check: check.as_str().into(),
            mismatched_fields: check
                .mismatched_fields()
                .iter()
                .map(|s| s.to_string())
                .collect(),
            status: status.as_str().into(),
            pass,
            departure_unit: p
                .travel
                .as_ref()
                .and_then(|t| t.departure_unit.as_ref())
                .map(|u| u.to_string()),
            destination_unit: p
                .travel
                .as_ref()
                .and_then(|t| t.destination_unit.as_ref())
                .map(|u| u.to_string()),
        });
    }
    let stored = json!({"submitter": submitter, "form": body});
    let new = NewDeclaration {
        submitter: serde_json::to_string(&submitter).map_err(ApiError::internal)?,
        actor,
        consent: body.consent,
        body: stored.to_string(),
        people: outcomes,
        otp_challenge,
    };
    let answer: Vec<Value> = new
        .people
        .iter()
        .map(|o| {
            json!({
                "citizen_id": o.citizen_id, "identity_check": o.identity_check, "mismatched_fields": o.mismatched_fields,
                "status": o.status,
                "pass": o.pass.as_ref().map(|p| json!({"id": p.id, "token": p.token, "expires_at": rfc3339(p.expires_at)})),
            })
        })
        .collect();
    let passes = new.people.iter().filter(|o| o.pass.is_some()).count();
    let id = st.store.insert_declaration(new).await?;
    Metrics::inc(&st.metrics.declarations);
    st.metrics
        .passes_issued
        .fetch_add(passes as u64, std::sync::atomic::Ordering::Relaxed);
    Ok((
        StatusCode::CREATED,
        Json(json!({"declaration_id": id, "people": answer})),
    ))
}

/// The stored form, for officers whose jurisdiction holds every declared person; the read is audited.
pub async fn get_one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<Value>> {
    let who = staff.require(&[Role::Officer, Role::Health, Role::Admin])?;
    let (submitted_at, _, body) = st
        .store
        .declaration(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no declaration {id}")))?;
    let body: Value = serde_json::from_str(&body).map_err(ApiError::internal)?;
    for p in body["form"]["people"].as_array().into_iter().flatten() {
        let commune = p["commune_code"]
            .as_str()
            .and_then(|c| kiemdich_domain::UnitCode::parse(c).ok());
        match commune {
            Some(c) => st.check_jurisdiction(who, &c)?,
            None => return Err(ApiError::internal("stored declaration lacks a commune")),
        }
    }
    st.store
        .audit(
            &who.actor,
            "declaration.read",
            &format!("declaration:{id}"),
            "",
        )
        .await?;
    Ok(Json(
        json!({"declaration_id": id, "submitted_at": rfc3339(submitted_at), "submitter": body["submitter"], "form": body["form"]}),
    ))
}
