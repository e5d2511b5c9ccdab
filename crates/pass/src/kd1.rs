//! KD1 encoding and decoding.
//!
//! Layout: `KD1:` + Base45( COSE_Sign1 tagged 18 ) where the protected header holds `alg` = EdDSA (-8) and
//! `kid`, and the payload is a CWT claims set with `iss` (1), `exp` (4), `iat` (6), `cti` (7) and the private
//! claim [`HOLDER_CLAIM`] holding a small map of the holder data a checkpoint needs, nothing more.
//!
//! The holder map: 1 name, 2 birth year, 3 masked id, 4 status code, 5 home commune, and, when any dose is
//! recorded, 6 the dose count and 7 the last dose's date as days since 1970-01-01 (an unsigned integer: 2 bytes
//! for the count and 4 for the date, where ISO text would take 12). Keys 6 and 7 are optional on decoding, so
//! passes issued before they existed stay valid and read as "no vaccination data".

use crate::cbor::{CborError, Reader};
use crate::keys::{Kid, SigningKey};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use ciborium::Value;
use coset::cwt::{ClaimsSetBuilder, Timestamp};
use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use kiemdich_domain::{HealthStatus, VaccinationSummary};
use serde::Serialize;
use std::fmt;

pub const PREFIX: &str = "KD1:";
/// Tokens longer than this are rejected before any decoding (a real pass is under 300 characters).
pub const MAX_TOKEN_LEN: usize = 1024;
/// Private CWT claim carrying the holder map (the first key of the private-use range).
const HOLDER_CLAIM: i64 = -65537;
/// Clock difference tolerated between issuer and an offline verifier.
const CLOCK_SKEW_SECS: i64 = 300;

/// Why a token was refused. Each has a stable snake_case code for APIs and scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    TooLong,
    UnknownPrefix,
    BadBase45,
    BadCbor,
    BadCose,
    WrongAlgorithm,
    UnknownKey,
    KeyRetired,
    BadSignature,
    BadClaims,
    NotYetValid,
    Expired,
    Revoked,
    Superseded,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::TooLong => "too_long",
            Reason::UnknownPrefix => "unknown_prefix",
            Reason::BadBase45 => "bad_base45",
            Reason::BadCbor => "bad_cbor",
            Reason::BadCose => "bad_cose",
            Reason::WrongAlgorithm => "wrong_algorithm",
            Reason::UnknownKey => "unknown_key",
            Reason::KeyRetired => "key_retired",
            Reason::BadSignature => "bad_signature",
            Reason::BadClaims => "bad_claims",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
            Reason::Revoked => "revoked",
            Reason::Superseded => "superseded",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub reason: Reason,
    pub detail: String,
}

impl Rejection {
    pub fn new(reason: Reason, detail: impl Into<String>) -> Rejection {
        Rejection {
            reason,
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.reason.code(), self.detail)
    }
}

impl std::error::Error for Rejection {}

/// A pass id: 16 random bytes, written as 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PassId(pub [u8; 16]);

impl PassId {
    pub fn random() -> PassId {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).expect("the operating system provides randomness");
        PassId(b)
    }

    /// 32 hex digits, either case; `decode_to_slice` refuses any other length.
    pub fn parse(s: &str) -> Option<PassId> {
        let mut b = [0u8; 16];
        hex::decode_to_slice(s, &mut b).ok()?;
        Some(PassId(b))
    }
}

impl fmt::Display for PassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut digits = [0u8; 32];
        hex::encode_to_slice(self.0, &mut digits).map_err(|_| fmt::Error)?;
        f.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)
    }
}

/// What a checkpoint sees of the holder: name, birth year, masked id, status at issue, home commune and the
/// vaccination state at issue (shown beside the colour, never folded into it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub name: String,
    pub birth_year: u16,
    pub masked_id: String,
    pub status: HealthStatus,
    pub commune: String,
    pub vaccination: VaccinationSummary,
}

/// The Unix epoch as a day, from which the holder map counts the last dose's date.
fn epoch() -> NaiveDate {
    DateTime::UNIX_EPOCH.date_naive()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PassClaims {
    pub issuer: String,
    #[serde(serialize_with = "ser_pass_id")]
    pub pass_id: PassId,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub holder: Holder,
}

fn ser_pass_id<S: serde::Serializer>(id: &PassId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

fn holder_to_cbor(h: &Holder) -> Value {
    let mut map = vec![
        (Value::from(1), Value::from(h.name.as_str())),
        (Value::from(2), Value::from(h.birth_year)),
        (Value::from(3), Value::from(h.masked_id.as_str())),
        (Value::from(4), Value::from(h.status.code())),
        (Value::from(5), Value::from(h.commune.as_str())),
    ];
    // No dose: nothing at all, so that the pass is exactly as it was before passes carried vaccination.
    if let (doses @ 1.., Some(last)) = (h.vaccination.doses, h.vaccination.last_dose) {
        map.push((Value::from(6), Value::from(doses)));
        // A dose before 1970 does not exist in these records; it would read as no date rather than wrap.
        let days = u64::try_from((last - epoch()).num_days()).unwrap_or(0);
        map.push((Value::from(7), Value::from(days)));
    }
    Value::Map(map)
}

/// Signs the claims into a `KD1:` token.
pub fn encode(claims: &PassClaims, key: &SigningKey) -> String {
    let payload = ClaimsSetBuilder::new()
        .issuer(claims.issuer.clone())
        .issued_at(Timestamp::WholeSeconds(claims.issued_at.timestamp()))
        .expiration_time(Timestamp::WholeSeconds(claims.expires_at.timestamp()))
        .cwt_id(claims.pass_id.0.to_vec())
        .private_claim(HOLDER_CLAIM, holder_to_cbor(&claims.holder))
        .build()
        .to_vec()
        .expect("claims serialise");
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(key.kid().0.to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload)
        .create_signature(b"", |data| key.sign(data))
        .build();
    let bytes = sign1.to_tagged_vec().expect("COSE serialises");
    format!("{PREFIX}{}", crate::base45::encode(&bytes))
}

/// A structurally valid, not yet verified token: the parts of its COSE_Sign1, borrowed from the decoded bytes.
pub(crate) struct Signed {
    bytes: Vec<u8>,
    protected: (usize, usize),
    payload: (usize, usize),
    signature: [u8; 64],
}

fn cose_error(e: CborError) -> Rejection {
    match e {
        CborError::Malformed => Rejection::new(Reason::BadCbor, "not well-formed CBOR"),
        CborError::Unexpected => Rejection::new(Reason::BadCose, "not a COSE_Sign1 tagged 18"),
    }
}

/// Offsets of a slice inside its parent buffer.
fn span(parent: &[u8], part: &[u8]) -> (usize, usize) {
    let start = part.as_ptr() as usize - parent.as_ptr() as usize;
    (start, start + part.len())
}

/// Reads `alg` and `kid` from the protected header map.
fn read_protected(header: &[u8]) -> Result<(i64, &[u8]), CborError> {
    let mut r = Reader::new(header);
    let (mut alg, mut kid) = (None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            1 => alg = Some(r.int()?),
            4 => kid = Some(r.bytes()?),
            _ => r.skip()?,
        }
    }
    if !r.at_end() {
        return Err(CborError::Malformed);
    }
    Ok((
        alg.ok_or(CborError::Unexpected)?,
        kid.ok_or(CborError::Unexpected)?,
    ))
}

/// Decodes up to the key id: bounded length, prefix, Base45, tagged COSE_Sign1 structure, algorithm.
pub(crate) fn parse(token: &str) -> Result<(Kid, Signed), Rejection> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(Rejection::new(
            Reason::TooLong,
            format!("token is longer than {MAX_TOKEN_LEN} characters"),
        ));
    }
    let body = token
        .strip_prefix(PREFIX)
        .ok_or_else(|| Rejection::new(Reason::UnknownPrefix, "token does not start with KD1:"))?;
    let bytes = crate::base45::decode(body)
        .ok_or_else(|| Rejection::new(Reason::BadBase45, "not Base45"))?;
    let mut r = Reader::new(&bytes);
    if r.tag().map_err(cose_error)? != 18 || r.array().map_err(cose_error)? != 4 {
        return Err(cose_error(CborError::Unexpected));
    }
    let protected = r.bytes().map_err(cose_error)?;
    // The unprotected header is not signed, so KD1 allows nothing in it: it must be the empty map, and any
    // change to it is refused like a change anywhere else.
    if r.map().map_err(cose_error)? != 0 {
        return Err(Rejection::new(
            Reason::BadCose,
            "the unprotected header must be empty",
        ));
    }
    let payload = r.bytes().map_err(cose_error)?;
    let signature = r.bytes().map_err(cose_error)?;
    if !r.at_end() {
        return Err(Rejection::new(
            Reason::BadCbor,
            "bytes after the COSE_Sign1",
        ));
    }
    let (alg, kid) = read_protected(protected).map_err(cose_error)?;
    if alg != EDDSA {
        return Err(Rejection::new(
            Reason::WrongAlgorithm,
            "KD1 keys are bound to EdDSA",
        ));
    }
    let kid: [u8; 8] = kid
        .try_into()
        .map_err(|_| Rejection::new(Reason::UnknownKey, "key id is not 8 bytes"))?;
    let signature: [u8; 64] = signature
        .try_into()
        .map_err(|_| Rejection::new(Reason::BadSignature, "signature is not 64 bytes"))?;
    let (protected, payload) = (span(&bytes, protected), span(&bytes, payload));
    Ok((
        Kid(kid),
        Signed {
            bytes,
            protected,
            payload,
            signature,
        },
    ))
}

/// COSE algorithm id of EdDSA.
const EDDSA: i64 = -8;

impl Signed {
    /// The COSE Sig_structure `["Signature1", protected, h'', payload]` that the signature covers.
    fn to_be_signed(&self) -> Vec<u8> {
        let protected = &self.bytes[self.protected.0..self.protected.1];
        let payload = &self.bytes[self.payload.0..self.payload.1];
        let mut out = Vec::with_capacity(protected.len() + payload.len() + 20);
        out.extend_from_slice(b"\x84\x6aSignature1");
        crate::cbor::write_bytes_head(&mut out, protected.len());
        out.extend_from_slice(protected);
        out.push(0x40);
        crate::cbor::write_bytes_head(&mut out, payload.len());
        out.extend_from_slice(payload);
        out
    }
}

/// Checks the signature with the key the kid named.
pub(crate) fn check_signature(
    signed: &Signed,
    key: &ed25519_dalek::VerifyingKey,
) -> Result<(), Rejection> {
    let sig = ed25519_dalek::Signature::from_bytes(&signed.signature);
    key.verify_strict(&signed.to_be_signed(), &sig)
        .map_err(|_| Rejection::new(Reason::BadSignature, "signature does not verify"))
}

/// The claims and their validity at `now` (the signature is the caller's to check first).
pub(crate) fn claims_at(signed: &Signed, now: DateTime<Utc>) -> Result<PassClaims, Rejection> {
    let claims = parse_claims(&signed.bytes[signed.payload.0..signed.payload.1]).map_err(|e| {
        Rejection::new(
            Reason::BadClaims,
            format!("claims are malformed ({e:?}) or incomplete"),
        )
    })?;
    if claims.issued_at.timestamp() > now.timestamp() + CLOCK_SKEW_SECS {
        return Err(Rejection::new(
            Reason::NotYetValid,
            format!("issued at {}", claims.issued_at.to_rfc3339()),
        ));
    }
    if claims.expires_at <= now {
        return Err(Rejection::new(
            Reason::Expired,
            format!("expired at {}", claims.expires_at.to_rfc3339()),
        ));
    }
    Ok(claims)
}

fn seconds(t: i64) -> Result<DateTime<Utc>, CborError> {
    Utc.timestamp_opt(t, 0)
        .single()
        .ok_or(CborError::Unexpected)
}

/// The last dose's date from its day count since 1970; a count that is no date is malformed.
fn dose_day(days: i64) -> Result<NaiveDate, CborError> {
    u64::try_from(days)
        .ok()
        .and_then(|d| epoch().checked_add_days(chrono::Days::new(d)))
        .ok_or(CborError::Unexpected)
}

fn read_holder(r: &mut Reader) -> Result<Holder, CborError> {
    let (mut name, mut year, mut masked, mut status, mut commune) = (None, None, None, None, None);
    let (mut doses, mut last_dose) = (None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            1 => name = Some(r.text()?.to_owned()),
            2 => year = Some(u16::try_from(r.int()?).map_err(|_| CborError::Unexpected)?),
            3 => masked = Some(r.text()?.to_owned()),
            4 => {
                status = u8::try_from(r.int()?)
                    .ok()
                    .and_then(HealthStatus::from_code)
            }
            5 => commune = Some(r.text()?.to_owned()),
            6 => doses = Some(u8::try_from(r.int()?).map_err(|_| CborError::Unexpected)?),
            7 => last_dose = Some(dose_day(r.int()?)?),
            _ => r.skip()?,
        }
    }
    let missing = CborError::Unexpected;
    // Both or neither, and a count of at least one: an issuer writes nothing else.
    let vaccination = match (doses, last_dose) {
        (None, None) => VaccinationSummary::NONE,
        (Some(doses @ 1..), Some(last)) => VaccinationSummary {
            doses,
            last_dose: Some(last),
        },
        _ => return Err(missing),
    };
    Ok(Holder {
        name: name.ok_or(missing)?,
        birth_year: year.ok_or(missing)?,
        masked_id: masked.ok_or(missing)?,
        status: status.ok_or(missing)?,
        commune: commune.ok_or(missing)?,
        vaccination,
    })
}

/// Reads the CWT claims map: `iss`, `exp`, `iat`, `cti` and the holder; other claims are skipped.
fn parse_claims(payload: &[u8]) -> Result<PassClaims, CborError> {
    let mut r = Reader::new(payload);
    let (mut iss, mut exp, mut iat, mut cti, mut holder) = (None, None, None, None, None);
    for _ in 0..r.map()? {
        match r.int()? {
            1 => iss = Some(r.text()?.to_owned()),
            4 => exp = Some(seconds(r.int()?)?),
            6 => iat = Some(seconds(r.int()?)?),
            7 => {
                cti = Some(PassId(
                    r.bytes()?.try_into().map_err(|_| CborError::Unexpected)?,
                ))
            }
            HOLDER_CLAIM => holder = Some(read_holder(&mut r)?),
            _ => r.skip()?,
        }
    }
    if !r.at_end() {
        return Err(CborError::Malformed);
    }
    let missing = CborError::Unexpected;
    Ok(PassClaims {
        issuer: iss.ok_or(missing)?,
        pass_id: cti.ok_or(missing)?,
        issued_at: iat.ok_or(missing)?,
        expires_at: exp.ok_or(missing)?,
        holder: holder.ok_or(missing)?,
    })
}
