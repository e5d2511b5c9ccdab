//! Proximity tracing's server side (GAEN): a health officer issues a one-time verification code for a confirmed
//! case; the case's phone uploads its keys with the code and consent; the keys go out in signed export batches
//! every phone downloads and matches on itself. The server never learns who was exposed, and keeps nothing
//! that links a key to the person after the upload.

use super::health::case_in_reach;
use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorCode};
use kiemdich_domain::OutboxChannel;
use kiemdich_domain::catalogue::{ApiText, Message as _, Problem, Sms, fill};
use kiemdich_domain::{CaseClass, FieldErrors, Instant, LocalClock};
use kiemdich_proximity::{
    EnIntervalNumber, KeyProblem, TemporaryExposureKey, UploadError, UploadedKey, validate_upload,
};
use kiemdich_store::{NewProximityCode, Notice, Principal};
use serde::{Deserialize, Serialize};

/// The letters of a verification code: no 0/O, 1/I/L, 2/Z, 5/S or 8/B, which are misheard over the phone or
/// misread on a small screen.
const CODE_ALPHABET: &[u8] = b"ACDEFGHJKMNPQRTUVWXY34679";
/// Letters in a code: 25^8 ≈ 1.5 × 10^11, guessed at most a few times a minute per address (the throttle).
const CODE_LEN: usize = 8;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub case_id: i64,
}

/// A code as the officer reads it out (`ACDE-FGHJ`) and when it stops being usable.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IssuedCode {
    pub code: String,
    pub expires_at: Instant,
}

/// A phone's upload: GAEN's field names.
#[derive(Debug, Clone, Deserialize)]
pub struct KeyUpload {
    pub code: String,
    #[serde(default)]
    pub consent: bool,
    #[serde(default)]
    pub keys: Vec<KeyIn>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct KeyIn {
    /// The 16 key bytes in base64.
    pub key: String,
    pub rolling_start_interval_number: i64,
    #[serde(default = "full_day")]
    pub rolling_period: i64,
    #[serde(default)]
    pub transmission_risk_level: i64,
}

fn full_day() -> i64 {
    i64::from(kiemdich_proximity::crypto::MAX_ROLLING_PERIOD)
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accepted {
    pub accepted: usize,
}

/// One published batch; `url` serves its zip.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchView {
    pub id: i64,
    pub url: String,
    pub start: Instant,
    pub end: Instant,
    pub keys: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Batches {
    pub batches: Vec<BatchView>,
}

/// A unit's day of codes and uploads, by name, for health officers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountView {
    pub unit_code: String,
    pub unit_name: String,
    pub day: chrono::NaiveDate,
    /// The day as people read it, dd/mm/yyyy.
    pub day_local: String,
    pub codes_issued: i64,
    pub uploads: i64,
    pub keys_uploaded: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Counts {
    pub days: u32,
    pub counts: Vec<CountView>,
}

/// How many days of counts health officers see.
pub const COUNT_DAYS: u32 = 28;

fn new_code() -> String {
    let mut out = String::with_capacity(CODE_LEN);
    while out.len() < CODE_LEN {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the operating system provides randomness");
        // Bytes past the largest multiple of the alphabet's length are dropped, so every letter is as likely.
        let limit = 256 - 256 % CODE_ALPHABET.len();
        out.extend(
            b.iter()
                .filter(|&&x| usize::from(x) < limit)
                .map(|&x| char::from(CODE_ALPHABET[usize::from(x) % CODE_ALPHABET.len()]))
                .take(CODE_LEN - out.len()),
        );
    }
    out
}

/// The code as typed or read back: case, spaces and dashes do not matter.
fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn spoken(code: &str) -> String {
    let (a, b) = code.split_at(CODE_LEN / 2);
    format!("{a}-{b}")
}

/// Codes are stored hashed; the hash says what they are for.
fn code_hash(code: &str) -> String {
    crate::auth::sha256_hex(&format!("proximity:{}", normalise(code)))
}

/// Issues a one-time code for a confirmed case (health roles, the case inside their jurisdiction, else 404),
/// bound to the case's infectious window (from the rules' days before its onset or sample date), and sends it
/// to the person's phone.
pub async fn issue_code(st: &AppState, who: &Principal, req: CodeRequest) -> ApiResult<IssuedCode> {
    let case = case_in_reach(st, who, req.case_id).await?;
    if case.classification != CaseClass::F0 || !case.active {
        return Err(ApiError::field_as(
            "case_id",
            Problem::NotConfirmedCase,
            format!(
                "case {} is {}{}, not an open confirmed case",
                case.id,
                case.classification.as_str(),
                if case.active { "" } else { " and ended" }
            ),
        ));
    }
    let onset = case.onset_date.or(case.sample_date).ok_or_else(|| {
        ApiError::field_as(
            "case_id",
            Problem::Required,
            format!("case {} has no onset or sample date", case.id),
        )
    })?;
    let tracing = &st.rules.tracing;
    let first_day = onset - chrono::Duration::days(i64::from(tracing.infectious_days_before_onset));
    let window_start = EnIntervalNumber::from_unix(tracing.day_start(first_day));
    let now = chrono::Utc::now().timestamp();
    let expires_at = now + i64::from(st.proximity.verification_code_hours) * 3600;
    let code = new_code();
    let sms = st.store.resident(&case.citizen_id).await?.and_then(|r| {
        r.phone.map(|phone| Notice {
            channel: OutboxChannel::Sms,
            recipient: phone.as_str().to_owned(),
            body: fill(
                Sms::ProximityCode.vi(),
                &[
                    ("code", &spoken(&code)),
                    ("until", &st.rules.clock().time(expires_at)),
                ],
            ),
            unit: case.commune_code.to_string(),
        })
    });
    let row = NewProximityCode {
        code_hash: code_hash(&code),
        case_id: case.id,
        unit_code: case.commune_code.clone(),
        window_start,
        expires_at,
    };
    st.store
        .issue_proximity_code(&who.actor, &row, tracing.local_date(now), sms)
        .await?;
    Ok(IssuedCode {
        code: spoken(&code),
        expires_at: Instant(expires_at),
    })
}

/// Where a key problem is reported, and as what.
fn key_field(index: usize, problem: &KeyProblem) -> (String, Problem) {
    let (field, code) = match problem {
        KeyProblem::WrongLength(_) => ("key", Problem::KeyLength),
        KeyProblem::Duplicate(_) => ("key", Problem::KeyDuplicate),
        KeyProblem::RollingPeriod => ("rolling_period", Problem::OutOfRange),
        KeyProblem::TransmissionRiskLevel => ("transmission_risk_level", Problem::OutOfRange),
        KeyProblem::RollingStart => ("rolling_start_interval_number", Problem::OutOfRange),
        KeyProblem::Future => ("rolling_start_interval_number", Problem::KeyFuture),
        KeyProblem::TooOld => ("rolling_start_interval_number", Problem::KeyTooOld),
        KeyProblem::Overlaps(_) => ("rolling_start_interval_number", Problem::KeyOverlap),
    };
    (format!("keys[{index}].{field}"), code)
}

/// The keys, decoded and checked with the crate's upload rules; every problem named by its field, together.
fn checked_keys(st: &AppState, keys: &[KeyIn], now: i64) -> ApiResult<Vec<TemporaryExposureKey>> {
    use base64::Engine as _;
    let mut not_base64 = Vec::new();
    let decoded: Vec<UploadedKey> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| UploadedKey {
            key: base64::engine::general_purpose::STANDARD
                .decode(k.key.trim())
                .unwrap_or_else(|e| {
                    not_base64.push((i, e));
                    Vec::new()
                }),
            rolling_start_interval_number: k.rolling_start_interval_number,
            rolling_period: k.rolling_period,
            transmission_risk_level: k.transmission_risk_level,
        })
        .collect();
    let checked = validate_upload(&decoded, EnIntervalNumber::from_unix(now), &st.proximity);
    let mut problems: Vec<(usize, String, Problem, String)> = not_base64
        .iter()
        .map(|(i, e)| {
            let detail = format!("keys[{i}]: not base64: {e}");
            (*i, format!("keys[{i}].key"), Problem::KeyLength, detail)
        })
        .collect();
    let mut errs = FieldErrors::default();
    match &checked {
        Ok(_) => {}
        Err(e @ UploadError::Empty) => errs.push_as("keys", Problem::Required, e),
        Err(e @ UploadError::TooMany { .. }) => errs.push_as("keys", Problem::TooMany, e),
        Err(UploadError::Keys(found)) => {
            // A key that was not base64 is reported as such, not as a key of 0 bytes.
            let decodable = |i: usize| not_base64.iter().all(|(j, _)| *j != i);
            problems.extend(found.iter().filter(|p| decodable(p.index)).map(|p| {
                let (field, code) = key_field(p.index, &p.problem);
                (p.index, field, code, p.to_string())
            }));
        }
    }
    problems.sort_by_key(|p| p.0);
    for (_, field, code, detail) in problems {
        errs.push_as(field, code, detail);
    }
    if errs.is_empty() {
        checked.map_err(ApiError::internal)
    } else {
        Err(ApiError::invalid(errs))
    }
}

/// Stores a phone's keys with a code and consent. Bad input is refused (422) before the code is tried, so a
/// phone may fix its upload and send it again; a code that is unknown, used or expired is refused (403) and
/// counted against the caller's address. Keys ending before the case's infectious window are dropped.
pub async fn upload(
    st: &AppState,
    addr: Option<std::net::IpAddr>,
    req: KeyUpload,
) -> ApiResult<Accepted> {
    if !req.consent {
        return Err(ApiError::field_as(
            "consent",
            Problem::KeyConsent,
            "consent must be true to upload keys",
        ));
    }
    let now = chrono::Utc::now().timestamp();
    let keys = checked_keys(st, &req.keys, now)?;
    let throttle_key = format!(
        "proximity:{}",
        addr.map_or_else(String::new, |a| a.to_string())
    );
    st.throttle.check(&throttle_key, addr).await?;
    let day = st.rules.tracing.local_date(now);
    match st
        .store
        .upload_proximity_keys(&code_hash(&req.code), &keys, now, day)
        .await?
    {
        Some(accepted) => {
            st.throttle.succeeded(&throttle_key).await?;
            Ok(Accepted { accepted })
        }
        None => {
            st.throttle.failed(&throttle_key, addr).await?;
            Err(
                ApiError::new(ErrorCode::Forbidden, "the code is unknown, used or expired")
                    .saying(ApiText::ProximityCodeRefused, &[]),
            )
        }
    }
}

/// The region written into exports: the country of the pass issuer (`VN` of `VN-94`).
pub fn region(issuer: &str) -> &str {
    issuer.split('-').next().unwrap_or(issuer)
}

/// The path of a batch's zip.
pub fn batch_path(id: i64) -> String {
    format!("/api/v1/proximity/exports/{id}")
}

/// Every batch still published, oldest first, each with the address of its zip.
pub async fn batches(st: &AppState) -> ApiResult<Batches> {
    let origin = st.public_url().map_or("", |u| u.origin());
    let batches = st
        .store
        .proximity_exports()
        .await?
        .into_iter()
        .map(|b| BatchView {
            url: format!("{origin}{}", batch_path(b.id)),
            id: b.id,
            start: Instant(b.start),
            end: Instant(b.end),
            keys: b.keys,
        })
        .collect();
    Ok(Batches { batches })
}

/// A batch's zip.
pub async fn batch(st: &AppState, id: i64) -> ApiResult<Vec<u8>> {
    st.store
        .proximity_export_body(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no export batch {id}")))
}

/// The PEM public key that verifies every batch's `export.sig` (the key is made on first need).
pub async fn export_key_pem(st: &AppState) -> ApiResult<String> {
    let key = kiemdich_store::export_signing_key(&st.store, &st.data_dir).await?;
    kiemdich_proximity::public_key_pem(&key).map_err(ApiError::internal)
}

/// Cuts a batch of the keys not yet published, if any (the hourly job and `kiemdich proximity export`).
pub async fn cut_batch(st: &AppState) -> ApiResult<Option<kiemdich_store::ExportBatch>> {
    Ok(st
        .store
        .cut_proximity_export(&st.data_dir, region(&st.issuer))
        .await?)
}

/// Codes issued, uploads and keys received per unit and day over the last [`COUNT_DAYS`] days, inside the
/// caller's jurisdiction (health roles): counts only, never a case.
pub async fn counts(st: &AppState, who: &Principal) -> ApiResult<Counts> {
    crate::auth::require_role(who, super::health::HEALTH)?;
    let today = st.rules.tracing.local_date(chrono::Utc::now().timestamp());
    let since = today - chrono::Duration::days(i64::from(COUNT_DAYS) - 1);
    let units = st.units_within(&who.unit);
    let counts = st
        .store
        .proximity_counts(&units, since)
        .await?
        .into_iter()
        .map(|c| CountView {
            unit_name: super::people::unit_name(st, c.unit_code.as_str()),
            unit_code: c.unit_code.to_string(),
            day_local: LocalClock::date(c.day),
            day: c.day,
            codes_issued: c.codes_issued,
            uploads: c.uploads,
            keys_uploaded: c.keys_uploaded,
        })
        .collect();
    Ok(Counts {
        days: COUNT_DAYS,
        counts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_back_whatever_the_case_spaces_or_dashes() {
        let code = new_code();
        assert_eq!(code.len(), CODE_LEN);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        let said = spoken(&code);
        assert_eq!(said.len(), CODE_LEN + 1);
        assert_eq!(code_hash(&said), code_hash(&code));
        assert_eq!(
            code_hash(&format!(" {} ", said.to_lowercase())),
            code_hash(&code)
        );
        assert_ne!(code_hash(&new_code()), code_hash(&code));
    }

    #[test]
    fn the_region_is_the_issuer_country() {
        assert_eq!(region("VN-94"), "VN");
        assert_eq!(region("VN"), "VN");
    }
}
