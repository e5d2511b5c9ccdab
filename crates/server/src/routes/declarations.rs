//! Declarations: one person or a family, by an officer (bearer token) or by the resident with a one-time code
//! sent to the phone the registry holds. Each person is checked against the registry; a matched person with
//! consent gets a signed pass that supersedes their previous one.

use super::Body;
use crate::AppState;
use crate::auth::{MaybeStaff, Staff};
use crate::error::request_lang;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::metrics::Metrics;
use crate::throttle::ClientAddr;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use chrono::{Datelike, Duration, Utc};
use kiemdich_domain::catalogue::{ApiText, Message as _, Problem, Sms, fill};
use kiemdich_domain::declaration::Exposure;
use kiemdich_domain::declaration::RawPerson;
use kiemdich_domain::{
    CaseClass, CitizenId, DeclaredPerson, FieldErrors, HealthStatus, IdentityCheck,
    IdentityOutcome, Instant, OutboxChannel, RegistryRecord, SampleReason, Sex, Submitter,
    TestType, UnitLevel, VaccinationSummary,
};
use kiemdich_pass::{Holder, PassClaims, PassId, SigningKey, encode};
use kiemdich_store::{
    Declarant, DeclarationKey, DeclarationStored, NewDeclaration, NewPass, NewSample, Notice,
    OtpAttempt, PersonOutcome, Principal, Role,
};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
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
    /// Sent again with the same key by the same submitter (an answer lost, a 503, an offline queue synced
    /// twice), the declaration is not stored twice: the first one's answer comes back, with 200.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    idempotency_key: Option<String>,
    #[serde(default, skip_serializing)]
    otp: Option<OtpAnswer>,
}

/// Codes are stored hashed, bound to the citizen they were sent to.
fn code_hash(citizen_id: &str, code: &str) -> String {
    crate::auth::sha256_hex(&format!("{citizen_id}:{code}"))
}

/// Stands for the code of a challenge that sent nothing: no code hashes to it, since hashes are hex.
const NO_CODE: &str = "-";

fn six_digits() -> String {
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).expect("the operating system provides randomness");
    format!("{:06}", u32::from_le_bytes(b) % 1_000_000)
}

/// The answer to a request for a one-time code: the same for every well-formed id.
#[derive(Serialize)]
pub struct OtpSent {
    challenge_id: i64,
    expires_at: Instant,
    /// That a code was sent if the registry holds a phone for the id, in the caller's language.
    message: &'static str,
}

/// Sends a one-time code to the phone the registry holds for this citizen id. Every well-formed id gets
/// the same answer, whether it is registered with a phone or not, so that no one learns who is registered.
pub async fn send_otp(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    Body(req): Body<OtpRequest>,
) -> ApiResult<(StatusCode, Json<OtpSent>)> {
    let id = CitizenId::parse(&req.citizen_id).map_err(|e| ApiError::field("citizen_id", e))?;
    st.throttle.send(addr).await?;
    let code = six_digits();
    let sms = st.store.resident(&id).await?.and_then(|r| {
        r.phone.map(|phone| Notice {
            channel: OutboxChannel::Sms,
            recipient: phone.as_str().to_owned(),
            body: fill(
                Sms::OneTimeCode.vi(),
                &[
                    ("code", &code),
                    ("minutes", &(st.rules.otp_ttl_seconds / 60).to_string()),
                ],
            ),
            unit: r.commune_code.to_string(),
        })
    });
    let hash = match sms {
        Some(_) => code_hash(id.as_str(), &code),
        None => NO_CODE.to_owned(),
    };
    let (challenge_id, expires_at) = st
        .store
        .create_otp(
            id.as_str(),
            &hash,
            i64::from(st.rules.otp_ttl_seconds),
            i64::from(st.rules.otp_max_sends_per_hour),
            sms,
        )
        .await
        .map_err(|e| match e {
            kiemdich_store::StoreError::Invalid(m) => ApiError::too_many(m, 3600),
            e => e.into(),
        })?;
    Metrics::inc(&st.metrics.otp_sent);
    Ok((
        StatusCode::ACCEPTED,
        Json(OtpSent {
            challenge_id,
            expires_at: Instant(expires_at),
            message: ApiText::OtpSent.text(request_lang()),
        }),
    ))
}

/// Checks a code. The attempt is counted before the comparison, atomically (see `Store::attempt_otp`), and
/// wrong codes for one citizen are throttled across their challenges.
pub(crate) async fn check_otp(
    st: &AppState,
    answer: &OtpAnswer,
    addr: Option<std::net::IpAddr>,
) -> ApiResult<(i64, CitizenId)> {
    let fail = |text: ApiText, detail: String| {
        Metrics::inc(&st.metrics.otp_failed);
        ApiError::field_as("otp", Problem::WrongCode, detail).saying(text, &[])
    };
    let max = i64::from(st.rules.otp_max_attempts);
    let known = st
        .store
        .otp_challenge(answer.challenge_id)
        .await?
        .ok_or_else(|| {
            fail(
                ApiText::OtpExpired,
                "unknown challenge; request a new code".into(),
            )
        })?;
    let key = format!("otp:{}", known.citizen_id);
    st.throttle.check(&key, addr).await?;
    let c = match st.store.attempt_otp(known.id, max).await? {
        OtpAttempt::Counted(c) => c,
        OtpAttempt::Unknown => {
            return Err(fail(
                ApiText::OtpExpired,
                "unknown challenge; request a new code".into(),
            ));
        }
        OtpAttempt::Used => {
            return Err(fail(
                ApiText::OtpExpired,
                "this code was already used; request a new one".into(),
            ));
        }
        OtpAttempt::Expired => {
            return Err(fail(
                ApiText::OtpExpired,
                "the code has expired; request a new one".into(),
            ));
        }
        OtpAttempt::Locked => {
            return Err(fail(
                ApiText::OtpLocked,
                format!("locked after {max} wrong codes; request a new one"),
            ));
        }
    };
    if code_hash(&c.citizen_id, answer.code.trim()) != c.code_hash {
        st.throttle.failed(&key, addr).await?;
        let left = max - c.attempts;
        return Err(fail(
            ApiText::OtpWrong,
            format!("wrong code; {left} attempts left"),
        )
        .saying(ApiText::OtpWrong, &[("left", left.to_string())]));
    }
    st.throttle.succeeded(&key).await?;
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
    let dates = st.rules.dates_at(Utc::now().timestamp());
    let mut seen = HashSet::new();
    let mut people = Vec::new();
    for (i, raw) in body.people.iter().take(MAX_PEOPLE).enumerate() {
        let at = format!("people[{i}]");
        match raw.parse(&at, &dates) {
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

/// Who is declaring: an officer or admin (their principal), or a resident (their citizen id), with the
/// one-time code to use up when they proved themselves by one.
enum Declarer {
    Staff(Principal),
    Resident {
        citizen_id: CitizenId,
        otp_challenge: Option<i64>,
    },
}

async fn declarer(
    st: &AppState,
    who: Option<Principal>,
    otp: Option<&OtpAnswer>,
    addr: Option<std::net::IpAddr>,
) -> ApiResult<Declarer> {
    match (who, otp) {
        (Some(p), _) if p.role == Role::Resident => {
            let citizen_id = p
                .citizen_id
                .as_deref()
                .and_then(|c| CitizenId::parse(c).ok())
                .ok_or_else(|| ApiError::internal("resident session without a citizen id"))?;
            Ok(Declarer::Resident {
                citizen_id,
                otp_challenge: None,
            })
        }
        (Some(p), _) => {
            let staff = Staff(p);
            staff.require(&[Role::Officer, Role::Admin])?;
            Ok(Declarer::Staff(staff.0))
        }
        (None, Some(answer)) => {
            let (challenge, citizen_id) = check_otp(st, answer, addr).await?;
            Ok(Declarer::Resident {
                citizen_id,
                otp_challenge: Some(challenge),
            })
        }
        (None, None) => Err(ApiError::unauthorized(
            "declare with an officer's bearer token or a one-time code (POST /api/v1/otp)",
        )),
    }
}

/// What the declarer may know and do about one declared person.
#[derive(Clone, Copy)]
struct Reach {
    /// An officer of another commune declared on an identity document they attest they checked.
    attested: bool,
    /// Which of name and birth date differ from the registry may be told (staff of the registry commune).
    detail: bool,
}

fn refused(field: String, message: &str) -> ApiError {
    let mut e = ApiError::forbidden(message);
    e.fields.push(field, message);
    e
}

/// Decides, for each person, whether the declarer may declare for them, refusing the whole declaration
/// otherwise: nobody's pass is superseded by someone who could not have declared for them.
///
/// - A resident declares for themselves and the members of their household in the registry.
/// - Staff declare for a registry person whose registry commune is in their jurisdiction; when only the
///   declared commune (where the person lives now) is, the officer must attest that they checked the
///   identity document. For a person not in the registry, the declared commune decides.
async fn reach(
    st: &AppState,
    declarer: &Declarer,
    people: &[DeclaredPerson],
    declarants: &[&Declarant],
) -> ApiResult<Vec<Reach>> {
    let mut out = Vec::with_capacity(people.len());
    match declarer {
        Declarer::Resident { citizen_id, .. } => {
            let household: HashSet<CitizenId> = st
                .store
                .household_of(citizen_id)
                .await?
                .into_iter()
                .map(|r| r.citizen_id)
                .collect();
            if !people.iter().any(|p| p.citizen_id == Some(*citizen_id)) {
                return Err(ApiError::field(
                    "people",
                    "the signed-in resident must be one of the people declared",
                ));
            }
            for (i, p) in people.iter().enumerate() {
                if !p.citizen_id.is_some_and(|c| household.contains(&c)) {
                    return Err(refused(
                        format!("people[{i}].citizen_id"),
                        "you may declare for yourself and the members of your household in the registry; a commune officer can declare for others",
                    ));
                }
                out.push(Reach {
                    attested: false,
                    detail: false,
                });
            }
        }
        Declarer::Staff(who) => {
            for (i, (p, d)) in people.iter().zip(declarants).enumerate() {
                let declared_here = st.reaches(who, p.commune_code.as_str());
                let registered_here = d
                    .record
                    .as_ref()
                    .map(|r| st.reaches(who, r.commune_code.as_str()));
                let r = match registered_here {
                    Some(true) => Reach {
                        attested: false,
                        detail: true,
                    },
                    Some(false) if declared_here && p.identity_document_checked => Reach {
                        attested: true,
                        detail: false,
                    },
                    Some(false) if declared_here => {
                        return Err(refused(
                            format!("people[{i}].identity_document_checked"),
                            "this person is registered in a commune outside your jurisdiction; check their identity document and confirm it (identity_document_checked) to declare for them where they live now",
                        ));
                    }
                    None if declared_here => Reach {
                        attested: false,
                        detail: true,
                    },
                    _ => {
                        return Err(refused(
                            format!("people[{i}].commune_code"),
                            &format!(
                                "commune {} is outside your jurisdiction ({})",
                                p.commune_code, who.unit
                            ),
                        ));
                    }
                };
                out.push(r);
            }
        }
    }
    Ok(out)
}

/// The in-app notice and SMS telling a person that an officer of another commune declared for them.
fn attested_notices(st: &AppState, who: &Principal, record: &RegistryRecord) -> Vec<Notice> {
    let units = st.units();
    let commune = units
        .get(&who.unit)
        .map_or_else(|| who.unit.to_string(), |u| u.name.clone());
    let body = fill(
        Sms::DeclaredForYou.vi(),
        &[("officer", &who.name), ("commune", &commune)],
    );
    let to = |channel, recipient: String| Notice {
        channel,
        recipient,
        body: body.clone(),
        unit: record.commune_code.to_string(),
    };
    let mut out = vec![to(OutboxChannel::App, record.citizen_id.to_string())];
    out.extend(
        record
            .phone
            .as_ref()
            .map(|p| to(OutboxChannel::Sms, p.as_str().to_owned())),
    );
    out
}

/// Signs a pass for a registry record: every path that issues one (a resident, an officer, a household, an
/// attested declaration) comes here, with the status and the person's vaccination summary at issue.
fn sign_pass(
    st: &AppState,
    key: &SigningKey,
    record: &kiemdich_domain::RegistryRecord,
    status: HealthStatus,
    vaccination: VaccinationSummary,
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
            vaccination,
        },
    };
    NewPass {
        id: claims.pass_id.to_string(),
        citizen_id: record.citizen_id.to_string(),
        kid: key.kid().to_base64url(),
        status,
        issued_at: claims.issued_at.timestamp(),
        expires_at: claims.expires_at.timestamp(),
        token: encode(&claims, key),
    }
}

/// A declaration just stored, and what it says of each person.
#[derive(Serialize)]
pub struct Declared {
    declaration_id: i64,
    /// The people's answers ([`PersonAnswer`]) as JSON: kept as they were sent, so that a replay gets the
    /// same bytes.
    people: Box<RawValue>,
}

/// The form as it is kept, immutable: who submitted it and what they sent (never the one-time code).
#[derive(Serialize)]
struct StoredForm<'a> {
    submitter: &'a Submitter,
    form: &'a DeclarationBody,
}

/// The kept form, read back.
#[derive(Deserialize)]
struct KeptForm {
    form: DeclarationBody,
}

pub async fn submit(
    State(st): State<AppState>,
    MaybeStaff(who): MaybeStaff,
    ClientAddr(addr): ClientAddr,
    Body(body): Body<DeclarationBody>,
) -> ApiResult<(StatusCode, Json<Declared>)> {
    let people = parse_people(&st, &body)?;
    let idempotency_key = body
        .idempotency_key
        .as_deref()
        .map(super::locations::check_idempotency_key)
        .transpose()?;
    let declarer = declarer(&st, who, body.otp.as_ref(), addr).await?;
    let ids: Vec<CitizenId> = people.iter().filter_map(|p| p.citizen_id).collect();
    // One read for all the records say of them: the registry, an active case (an F0 cannot declare themselves
    // green), a result awaiting confirmation (orange under the 2021 rules) and the doses the pass carries for
    // offline checkpoints.
    let known = st.store.declarants(&ids).await?;
    let declarants: Vec<&Declarant> = people
        .iter()
        .map(|p| {
            p.citizen_id
                .and_then(|c| known.get(&c))
                .unwrap_or(&Declarant::UNKNOWN)
        })
        .collect();
    let reaches = reach(&st, &declarer, &people, &declarants).await?;
    let key = st.signer().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NoSigningKey,
            "no signing key is active; run 'kiemdich keys generate'",
        )
    })?;
    let mut outcomes = Vec::with_capacity(people.len());
    let mut answer = Vec::with_capacity(people.len());
    let mut notices = Vec::new();
    for ((p, d), r) in people.iter().zip(&declarants).zip(&reaches) {
        let record = &d.record;
        let check = p.check_identity(record.as_ref());
        let case = d.case.map_or(HealthStatus::Green, CaseClass::status);
        let result = if d.awaiting_confirmation {
            st.rules.testing.rapid_antigen_positive.status
        } else {
            HealthStatus::Green
        };
        let status = HealthStatus::from_declaration(p).max(case).max(result);
        // Details that differ from the registry (a misspelt name, a wrong birth date) are settled by an officer
        // of the registry commune who checks the identity document: the pass then carries the registry's
        // details, and the person is told who declared for them.
        let documented = matches!(
            (&declarer, &check),
            (Declarer::Staff(_), IdentityCheck::Mismatch(_))
        ) && p.identity_document_checked
            && r.detail;
        let pass = match (&check, record) {
            (IdentityCheck::Matched, Some(rec)) => {
                Some(sign_pass(&st, &key, rec, status, d.vaccination))
            }
            (IdentityCheck::Mismatch(_), Some(rec)) if documented => {
                Some(sign_pass(&st, &key, rec, status, d.vaccination))
            }
            _ => None,
        };
        let attested = r.attested || documented;
        if let (Some(rec), Declarer::Staff(who), true) = (record, &declarer, attested) {
            notices.extend(attested_notices(&st, who, rec));
        }
        answer.push(person_answer(
            p,
            &check,
            status,
            pass.as_ref(),
            (*r, record.as_ref()),
            &declarer,
        ));
        outcomes.push(PersonOutcome {
            citizen_id: p.citizen_id.map(|c| c.to_string()),
            commune_code: p.commune_code.to_string(),
            identity_check: check.outcome(),
            mismatched_fields: check.mismatched_fields().to_vec(),
            status,
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
            registry_commune: record.as_ref().map(|r| r.commune_code.to_string()),
            attested,
        });
    }
    let (submitter, actor, otp_challenge) = match &declarer {
        Declarer::Staff(p) => (
            Submitter::Officer {
                actor: p.actor.clone(),
                name: p.name.clone(),
            },
            p.actor.clone(),
            None,
        ),
        Declarer::Resident {
            citizen_id,
            otp_challenge,
        } => (
            Submitter::SelfDeclared {
                citizen_id: *citizen_id,
            },
            format!("citizen:{citizen_id}"),
            *otp_challenge,
        ),
    };
    let stored = StoredForm {
        submitter: &submitter,
        form: &body,
    };
    let answer = serde_json::value::to_raw_value(&answer).map_err(ApiError::internal)?;
    // The form as sent (the one-time code is never serialised) is what a replay must repeat.
    let request_hash = idempotency_key
        .as_ref()
        .map(|_| serde_json::to_string(&body).map(|form| crate::auth::sha256_hex(&form)))
        .transpose()
        .map_err(ApiError::internal)?;
    let key = idempotency_key
        .zip(request_hash.clone())
        .map(|(key, request_hash)| DeclarationKey {
            key,
            request_hash,
            people: answer.get().to_owned(),
        });
    let new = NewDeclaration {
        key,
        submitter: serde_json::to_string(&submitter).map_err(ApiError::internal)?,
        actor,
        consent: body.consent,
        body: serde_json::to_string(&stored).map_err(ApiError::internal)?,
        samples: proximity_samples(&st, &people, &outcomes, &declarants),
        people: outcomes,
        otp_challenge,
        notices,
    };
    let passes = new.people.iter().filter(|o| o.pass.is_some()).count();
    match st.store.insert_declaration(new).await? {
        DeclarationStored::New(declaration_id) => {
            Metrics::inc(&st.metrics.declarations);
            st.metrics
                .passes_issued
                .fetch_add(passes as u64, std::sync::atomic::Ordering::Relaxed);
            Ok((
                StatusCode::CREATED,
                Json(Declared {
                    declaration_id,
                    people: answer,
                }),
            ))
        }
        DeclarationStored::Replay {
            declaration_id,
            first,
        } if Some(&first.request_hash) == request_hash.as_ref() => Ok((
            StatusCode::OK,
            Json(Declared {
                declaration_id,
                people: RawValue::from_string(first.people).map_err(ApiError::internal)?,
            }),
        )),
        DeclarationStored::Replay { .. } => Err(ApiError::new(
            ErrorCode::IdempotencyConflict,
            "this idempotency key was already used for a different declaration",
        )),
    }
}

/// The PCR a declared proximity exposure orders, as an F1's first test day: for each person the registry
/// confirmed (a pass was issued) who is not already a case. The exposure day is the app's, else today.
fn proximity_samples(
    st: &AppState,
    people: &[DeclaredPerson],
    outcomes: &[PersonOutcome],
    declarants: &[&Declarant],
) -> Vec<NewSample> {
    let today = st.rules.dates_at(Utc::now().timestamp()).today;
    people
        .iter()
        .zip(outcomes)
        .zip(declarants)
        .filter(|((p, o), d)| {
            p.exposures.contains(&Exposure::Proximity) && o.pass.is_some() && d.case.is_none()
        })
        .filter_map(|((p, o), _)| {
            let citizen_id = p.citizen_id?;
            let exposed = p.proximity_exposure_date.unwrap_or(today);
            let until = exposed + Duration::days(i64::from(st.rules.tracing.quarantine_days));
            let due_on = st
                .rules
                .testing
                .f1_test_dates(exposed, until, today)
                .first()
                .copied()
                .unwrap_or(today);
            Some(NewSample {
                citizen_id,
                commune_code: o
                    .registry_commune
                    .clone()
                    .unwrap_or_else(|| o.commune_code.clone()),
                reason: SampleReason::Suspected,
                test_type: TestType::Pcr,
                due_on: Some(due_on),
                collected_at: None,
                collected_where: None,
                follows: None,
            })
        })
        .collect()
}

/// What a declaration's answer says of one person. Which fields appear depends on who may know what (see
/// [`person_answer`]); `status` and `pass` are always there, null unless a pass was issued.
#[derive(Serialize)]
pub struct PersonAnswer {
    citizen_id: Option<CitizenId>,
    /// The registry's name, beside an issued pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    full_name: Option<String>,
    identity_check: IdentityOutcome,
    /// Which of the declared details differ from the registry: never told to a resident.
    #[serde(skip_serializing_if = "Option::is_none")]
    mismatched_fields: Option<Vec<&'static str>>,
    /// What was entered, for staff of the registry commune to compare with the registry.
    #[serde(skip_serializing_if = "Option::is_none")]
    entered: Option<PersonDetails>,
    /// What the registry holds (null for a person not in it), beside `entered`.
    #[serde(skip_serializing_if = "Option::is_none")]
    registry: Option<Option<PersonDetails>>,
    status: Option<HealthStatus>,
    pass: Option<IssuedPass>,
    /// The one plain message a resident whose details do not match gets, in their language.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'static str>,
}

/// Name, birth date and sex, as entered or as the registry holds them.
#[derive(Serialize)]
pub struct PersonDetails {
    full_name: String,
    date_of_birth: NaiveDate,
    sex: Sex,
}

/// A pass just issued: its id, the signed token the QR carries, and when it expires.
#[derive(Serialize)]
pub struct IssuedPass {
    id: String,
    token: String,
    expires_at: Instant,
}

/// What the answer says of one person. Status and pass only for a matched person; which fields differ
/// only to staff of the person's registry commune; a resident whose details do not match gets one plain
/// message, so that the answer confirms nothing about the registry or anyone's health.
fn person_answer(
    p: &DeclaredPerson,
    check: &IdentityCheck,
    status: HealthStatus,
    pass: Option<&NewPass>,
    (reach, record): (Reach, Option<&RegistryRecord>),
    declarer: &Declarer,
) -> PersonAnswer {
    let answer = PersonAnswer {
        citizen_id: p.citizen_id,
        full_name: None,
        identity_check: check.outcome(),
        mismatched_fields: Some(check.mismatched_fields().to_vec()),
        entered: None,
        registry: None,
        status: None,
        pass: None,
        message: None,
    };
    if let Some(pass) = pass {
        return PersonAnswer {
            full_name: record.map(|r| r.full_name.as_str().to_owned()),
            status: Some(status),
            pass: Some(IssuedPass {
                id: pass.id.clone(),
                token: pass.token.clone(),
                expires_at: Instant(pass.expires_at),
            }),
            ..answer
        };
    }
    match declarer {
        // Staff of the registry commune see what differs, beside what the registry holds, to compare with
        // the identity document in front of them.
        Declarer::Staff(_) if reach.detail => PersonAnswer {
            entered: Some(PersonDetails {
                full_name: p.full_name.as_str().to_owned(),
                date_of_birth: p.date_of_birth,
                sex: p.sex,
            }),
            registry: Some(record.map(|r| PersonDetails {
                full_name: r.full_name.as_str().to_owned(),
                date_of_birth: r.date_of_birth,
                sex: r.sex,
            })),
            ..answer
        },
        Declarer::Staff(_) => PersonAnswer {
            mismatched_fields: Some(Vec::new()),
            ..answer
        },
        Declarer::Resident { .. } => PersonAnswer {
            identity_check: IdentityOutcome::Mismatch,
            mismatched_fields: None,
            message: Some(ApiText::RegistryMismatch.text(request_lang())),
            ..answer
        },
    }
}

/// A stored declaration: when and by whom it was submitted, and the form as it was sent.
#[derive(Serialize)]
pub struct DeclarationView {
    declaration_id: i64,
    submitted_at: Instant,
    submitter: Submitter,
    form: DeclarationBody,
}

/// The stored form, for staff who may read it: the officer who submitted it, or staff whose jurisdiction
/// holds every declared person (by the declared commune or, for a registry person, the registry commune).
/// Anyone else gets 404, as for an unknown id. The read is audited.
pub async fn get_one(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
) -> ApiResult<Json<DeclarationView>> {
    let who = staff.require(&[Role::Officer, Role::Health, Role::Admin])?;
    let missing = || ApiError::not_found(format!("no declaration {id}"));
    let (submitted_at, submitter, body) = st.store.declaration(id).await?.ok_or_else(missing)?;
    let submitter: Submitter = serde_json::from_str(&submitter).map_err(ApiError::internal)?;
    let own = matches!(&submitter, Submitter::Officer { actor, .. } if *actor == who.actor);
    let people = st.store.declaration_reach(id).await?;
    let in_reach = people.iter().all(|(declared, registry)| {
        st.reaches(who, declared) || registry.as_deref().is_some_and(|r| st.reaches(who, r))
    });
    if !(own || in_reach) {
        return Err(missing());
    }
    let kept: KeptForm = serde_json::from_str(&body).map_err(ApiError::internal)?;
    st.store
        .audit(
            &who.actor,
            "declaration.read",
            &format!("declaration:{id}"),
            "",
        )
        .await?;
    Ok(Json(DeclarationView {
        declaration_id: id,
        submitted_at: Instant(submitted_at),
        submitter,
        form: kept.form,
    }))
}
