//! HC1 (EU Digital COVID Certificate) issuance and the published trust list. A person's certificate is issued
//! once for a set of doses and stored (UVCI, hashes, times, the signing DSC's kid): the same one is served again
//! while the doses are unchanged and it is more than [`RENEW_BEFORE_DAYS`] from expiry, so its UVCI stays stable
//! and can be revoked later; a new dose (or a nearing expiry) issues a new one.

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorCode};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use kiemdich_dcc::Reason;
use kiemdich_domain::catalogue::{ApiText, Dcc};
use kiemdich_domain::{Dose, RegistryRecord};
use kiemdich_store::{IssuedDcc, Principal, Role};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Who may have a person's certificate issued (inside their jurisdiction).
pub const ISSUERS: &[Role] = &[Role::Health, Role::Admin];

/// A certificate is issued anew when the stored one expires within this many days.
pub const RENEW_BEFORE_DAYS: i64 = 30;

/// The COVID-19 disease code (`tg`).
const COVID_19: &str = "840539006";

/// A person's HC1 certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DccView {
    pub hc1: String,
    pub uvci: String,
    pub expires_at: DateTime<Utc>,
}

impl DccView {
    fn of(i: &IssuedDcc) -> DccView {
        DccView {
            hc1: i.hc1.clone(),
            uvci: i.uvci.clone(),
            expires_at: DateTime::from_timestamp(i.expires_at, 0).unwrap_or_default(),
        }
    }
}

/// The deployment's trust list as published: its own DSCs and the CSCA that signed them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PublishedTrust {
    pub certificates: Vec<kiemdich_dcc::TrustEntry>,
    /// base64 DER of the CSCA certificate given at install (the newest DSC's), or null.
    pub csca: Option<String>,
}

/// What a verification reason reads as, from the catalogue.
pub fn reason_text(r: Reason) -> Dcc {
    match r {
        Reason::Valid => Dcc::Valid,
        Reason::TooLong => Dcc::TooLong,
        Reason::NoPrefix => Dcc::NoPrefix,
        Reason::BadBase45 => Dcc::BadBase45,
        Reason::BadCompression => Dcc::BadCompression,
        Reason::BadCose => Dcc::BadCose,
        Reason::BadClaims => Dcc::BadClaims,
        Reason::UnsupportedAlgorithm => Dcc::UnsupportedAlgorithm,
        Reason::UnknownKid => Dcc::UnknownKid,
        Reason::BadSignature => Dcc::BadSignature,
        Reason::NotYetValid => Dcc::NotYetValid,
        Reason::Expired => Dcc::Expired,
        Reason::DscNotValid => Dcc::DscNotValid,
        Reason::UnknownSchemaVersion => Dcc::UnknownSchemaVersion,
        Reason::SchemaViolation => Dcc::SchemaViolation,
        Reason::NotOneEntry => Dcc::NotOneEntry,
        Reason::WrongKeyUsage => Dcc::WrongKeyUsage,
    }
}

/// The trust list this deployment publishes (its own DSCs, every one installed, and the CSCA).
pub async fn published(st: &AppState) -> ApiResult<PublishedTrust> {
    let rows = st.store.dscs().await?;
    let csca = rows.iter().rev().find_map(|r| r.csca.clone());
    Ok(PublishedTrust {
        certificates: rows
            .into_iter()
            .map(|r| kiemdich_dcc::TrustEntry {
                kid: r.kid,
                certificate: r.certificate,
            })
            .collect(),
        csca,
    })
}

/// A key the scanner verifies certificates with offline: every trusted DSC, this deployment's and imported ones.
#[derive(Debug, Clone, Serialize)]
pub struct VerifierKey {
    /// The kid the DSC is listed under (base64).
    pub kid: String,
    /// `ES256` or `PS256`.
    pub alg: &'static str,
    /// SubjectPublicKeyInfo DER, base64.
    pub public_key: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    /// The certificate types it may sign; empty = all.
    pub usages: Vec<kiemdich_dcc::CertType>,
    /// Signed by this deployment: the scanner leaves such a certificate to the server, which knows its holder.
    pub issued_here: bool,
}

/// The keys of the trust list for offline verification.
#[derive(Debug, Clone, Serialize)]
pub struct VerifierKeys {
    pub keys: Vec<VerifierKey>,
}

/// Every trusted DSC's key, for scanners that verify certificates offline (public, as trust lists are); from
/// the cached trust list, no database read.
pub fn verifier_keys(st: &AppState) -> VerifierKeys {
    let trust = st.dcc_trust();
    VerifierKeys {
        keys: trust
            .entries()
            .map(|(kid, d)| VerifierKey {
                kid: STANDARD.encode(kid),
                alg: d.algorithm(),
                public_key: STANDARD.encode(d.spki_der()),
                not_before: d.not_before(),
                not_after: d.not_after(),
                usages: d.usages().to_vec(),
                issued_here: st.dcc_issued_here(&d.kid()),
            })
            .collect(),
    }
}

/// A person's certificate (health or admin, the person inside the caller's jurisdiction); audited.
pub async fn for_resident(st: &AppState, who: &Principal, citizen: &str) -> ApiResult<DccView> {
    crate::auth::require_role(who, ISSUERS)?;
    let person = crate::services::vaccination::person_in_reach(st, who, citizen).await?;
    let issued = certificate(st, &person, &who.actor).await?;
    st.store
        .audit(
            &who.actor,
            "dcc.read",
            &format!("citizen:{}", person.citizen_id),
            &issued.uvci,
        )
        .await?;
    Ok(DccView::of(&issued))
}

/// The signed-in resident's own certificate; audited.
pub async fn mine(st: &AppState, who: &Principal) -> ApiResult<DccView> {
    let person = own_record(st, who).await?;
    let id = &person.citizen_id;
    let issued = certificate(st, &person, &who.actor).await?;
    st.store
        .audit(
            &who.actor,
            "dcc.read.own",
            &format!("citizen:{id}"),
            &issued.uvci,
        )
        .await?;
    Ok(DccView::of(&issued))
}

/// What a certificate is made from: SHA-256 over the holder's names and date of birth, then each dose's product,
/// number, series, date and country. A corrected name in the registry issues a new certificate, as a new dose does.
fn content_hash(holder: &kiemdich_dcc::Holder, doses: &[Dose]) -> String {
    let mut h = Sha256::new();
    h.update(format!(
        "{}|{}|{}\n",
        holder.family_name, holder.given_name, holder.date_of_birth
    ));
    for d in doses {
        h.update(format!(
            "{}|{}|{}|{}|{}\n",
            d.product.mp(),
            d.dose_number,
            d.series_doses,
            d.date,
            d.country.as_str()
        ));
    }
    hex::encode(h.finalize())
}

/// Family name first, as Vietnamese names are written: the first word is the family name, the rest given names.
fn holder(person: &RegistryRecord) -> kiemdich_dcc::Holder {
    let name = person.full_name.as_str().trim();
    let (family, given) = name.split_once(' ').unwrap_or((name, ""));
    kiemdich_dcc::Holder {
        family_name: family.trim().to_owned(),
        given_name: given.trim().to_owned(),
        date_of_birth: person.date_of_birth.format("%Y-%m-%d").to_string(),
    }
}

/// The person's stored certificate if it still stands, else a new one (signed, stored, audited).
pub async fn certificate(
    st: &AppState,
    person: &RegistryRecord,
    actor: &str,
) -> ApiResult<IssuedDcc> {
    let doses = st.store.doses_of(&person.citizen_id).await?;
    let Some(latest) = doses.iter().max_by_key(|d| (d.date, d.dose_number)) else {
        return Err(
            ApiError::not_found(format!("no dose recorded for {}", person.citizen_id))
                .saying(ApiText::DccNoDose, &[]),
        );
    };
    let holder = holder(person);
    let hash = content_hash(&holder, &doses);
    let now = Utc::now();
    if let Some(stored) = st.store.latest_dcc(person.citizen_id.as_str()).await?
        && stored.doses_hash == hash
        && stored.expires_at - now.timestamp() > RENEW_BEFORE_DAYS * 86_400
    {
        return Ok(stored);
    }
    let signer = st.dcc_signer().ok_or_else(|| {
        ApiError::new(
            ErrorCode::NoSigningKey,
            "no DSC installed (kiemdich dcc dsc install)",
        )
        .saying(ApiText::DccNoSigner, &[])
    })?;
    let issuer = st.dcc_issuer();
    let vaccination = kiemdich_dcc::Vaccination {
        tg: COVID_19.into(),
        vp: latest.product.vp().into(),
        mp: latest.product.mp().into(),
        ma: latest.product.ma().into(),
        dose_number: latest.dose_number.into(),
        series_doses: latest.series_doses.into(),
        date: latest.date,
        country: latest.country.as_str().into(),
        issuer: issuer.authority.clone(),
    };
    let issued = kiemdich_dcc::issue(&signer, &holder, &vaccination, &issuer.country, None, now)
        .map_err(|e| ApiError::internal(format!("HC1 issuance: {e}")))?;
    let row = IssuedDcc {
        uvci: issued.uvci,
        citizen_id: person.citizen_id.as_str().to_owned(),
        doses_hash: hash,
        payload_hash: hex::encode(Sha256::digest(issued.hc1.as_bytes())),
        hc1: issued.hc1,
        dsc_kid: STANDARD.encode(signer.dsc().kid()),
        issued_at: issued.issued_at.timestamp(),
        expires_at: issued.expires_at.timestamp(),
    };
    st.store.insert_dcc(&row, actor).await?;
    Ok(row)
}

/// A certificate shown at a place, verified now: what it says and, when this deployment issued it, whose it is
/// (the citizen and whether it was revoked since).
pub struct Shown {
    pub presented: kiemdich_dcc::Presented,
    pub expires_at: Option<DateTime<Utc>>,
    pub issued_to: Option<(String, bool)>,
}

/// What the scanner is told of a certificate it read: enough to compare with the passport in hand, never the
/// whole payload.
#[derive(Debug, Clone, Serialize)]
pub struct ShownView {
    pub uvci: String,
    pub kind: kiemdich_dcc::CertType,
    /// The country of the vaccination, test or recovery.
    pub country: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Shown {
    pub fn view(&self) -> ShownView {
        ShownView {
            uvci: self.presented.uvci.clone(),
            kind: self.presented.kind,
            country: self.presented.country.clone(),
            expires_at: self.expires_at,
        }
    }
}

/// Verification reasons that mean a genuine certificate (its signature verified against a trusted DSC) that
/// cannot be used now: the scan is recorded as a refusal. Every other failure means it is not a genuine
/// certificate, which is a bad request and stores nothing.
fn genuine_but_refused(r: Reason) -> bool {
    matches!(
        r,
        Reason::Expired | Reason::DscNotValid | Reason::NotYetValid | Reason::WrongKeyUsage
    )
}

/// Verifies an HC1 shown at a scan against the trust list (this deployment's DSCs and the imported foreign
/// ones) now. `Ok(Err(code))`: genuine but refused, with the refusal's reason code (`dcc_expired`, …).
pub async fn shown_at_scan(st: &AppState, hc1: &str) -> ApiResult<Result<Shown, &'static str>> {
    let report = kiemdich_dcc::verify(hc1, &st.dcc_trust(), Utc::now());
    if !report.valid() {
        if genuine_but_refused(report.reason) {
            return Ok(Err(refusal_code(report.reason)));
        }
        return Err(ApiError::new(
            ErrorCode::InvalidPass,
            format!(
                "not a valid EU Digital COVID Certificate: {}{}",
                report.reason.code(),
                report
                    .detail
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        ));
    }
    let presented = report
        .payload
        .as_ref()
        .and_then(kiemdich_dcc::Presented::from_payload)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::InvalidPass,
                "the certificate has no entry with a certificate identifier a checkpoint can use",
            )
        })?;
    // Only a certificate one of our own DSCs signed can name a resident: no look-up for a foreign one.
    let issued_to = match report.dsc_kid {
        Some(kid) if st.dcc_issued_here(&kid) => {
            st.store
                .dcc_holder(&presented.uvci, &STANDARD.encode(kid))
                .await?
        }
        _ => None,
    };
    Ok(Ok(Shown {
        presented,
        expires_at: report.expires_at,
        issued_to,
    }))
}

/// The scan refusal code of a genuine certificate that cannot be used now.
fn refusal_code(r: Reason) -> &'static str {
    match r {
        Reason::Expired => "dcc_expired",
        Reason::DscNotValid => "dcc_dsc_not_valid",
        Reason::NotYetValid => "dcc_not_yet_valid",
        _ => "dcc_wrong_key_usage",
    }
}

/// What the printed certificate shows (Decision 5772/QĐ-BYT): the holder as the certificate names them, every
/// recorded dose (the HC1 itself carries the latest), the issuing authority, and the certificate.
#[derive(Debug, Clone)]
pub struct PrintableDcc {
    pub dcc: DccView,
    /// Family and given names as written, split as issuance splits them.
    pub family_name: String,
    pub given_name: String,
    /// `fnt` and `gnt`: the ICAO 9303 transliterations.
    pub family_name_t: String,
    pub given_name_t: String,
    pub date_of_birth: chrono::NaiveDate,
    /// Oldest first.
    pub doses: Vec<Dose>,
    /// `is`: the certificate issuer.
    pub issuer: String,
}

/// A person's certificate for printing (health or admin, the person inside the caller's jurisdiction); the
/// certificate is issued and audited as [`for_resident`] does.
pub async fn printable_for_resident(
    st: &AppState,
    who: &Principal,
    citizen: &str,
) -> ApiResult<PrintableDcc> {
    let dcc = for_resident(st, who, citizen).await?;
    let person = crate::services::vaccination::person_in_reach(st, who, citizen).await?;
    printable(st, &person, dcc).await
}

/// The signed-in resident's own certificate for printing; audited as [`mine`] does.
pub async fn printable_mine(st: &AppState, who: &Principal) -> ApiResult<PrintableDcc> {
    let dcc = mine(st, who).await?;
    printable(st, &own_record(st, who).await?, dcc).await
}

/// The signed-in resident's registry record.
async fn own_record(st: &AppState, who: &Principal) -> ApiResult<RegistryRecord> {
    let id = crate::services::resident::resident_of(who)?;
    st.store
        .resident(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{id} is not in the registry")))
}

async fn printable(
    st: &AppState,
    person: &RegistryRecord,
    dcc: DccView,
) -> ApiResult<PrintableDcc> {
    let mut doses = st.store.doses_of(&person.citizen_id).await?;
    doses.sort_by_key(|d| (d.date, d.dose_number));
    let h = holder(person);
    Ok(PrintableDcc {
        dcc,
        family_name_t: kiemdich_dcc::transliterate(&h.family_name),
        given_name_t: kiemdich_dcc::transliterate(&h.given_name),
        family_name: h.family_name,
        given_name: h.given_name,
        date_of_birth: person.date_of_birth,
        doses,
        issuer: st.dcc_issuer().authority.clone(),
    })
}
