//! KD1 encoding and decoding.
//!
//! Layout: `KD1:` + Base45( COSE_Sign1 tagged 18 ) where the protected header holds `alg` = EdDSA (-8) and
//! `kid`, and the payload is a CWT claims set with `iss` (1), `exp` (4), `iat` (6), `cti` (7) and the private
//! claim [`HOLDER_CLAIM`] holding a small map of the holder data a checkpoint needs, nothing more.

use crate::keys::{Kid, SigningKey};
use chrono::{DateTime, TimeZone, Utc};
use ciborium::Value;
use coset::cwt::{ClaimsSetBuilder, Timestamp};
use coset::{
    CborSerializable, CoseError, CoseSign1, CoseSign1Builder, HeaderBuilder,
    TaggedCborSerializable, iana,
};
use kiemdich_domain::HealthStatus;
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

    pub fn parse(s: &str) -> Option<PassId> {
        if s.len() != 32 {
            return None;
        }
        let mut b = [0u8; 16];
        for (i, byte) in b.iter_mut().enumerate() {
            *byte = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        Some(PassId(b))
    }
}

impl fmt::Display for PassId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

/// What a checkpoint sees of the holder: name, birth year, masked id, status at issue and home commune.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holder {
    pub name: String,
    pub birth_year: u16,
    pub masked_id: String,
    pub status: HealthStatus,
    pub commune: String,
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
    Value::Map(vec![
        (Value::from(1), Value::from(h.name.as_str())),
        (Value::from(2), Value::from(h.birth_year)),
        (Value::from(3), Value::from(h.masked_id.as_str())),
        (Value::from(4), Value::from(h.status.code())),
        (Value::from(5), Value::from(h.commune.as_str())),
    ])
}

fn holder_from_cbor(v: &Value) -> Option<Holder> {
    let map = v.as_map()?;
    let field = |k: i64| {
        map.iter()
            .find(|(key, _)| key.as_integer() == Some(k.into()))
            .map(|(_, v)| v)
    };
    let int = |k| field(k)?.as_integer().map(i128::from);
    let text = |k| field(k)?.as_text().map(str::to_owned);
    Some(Holder {
        name: text(1)?,
        birth_year: int(2)?.try_into().ok()?,
        masked_id: text(3)?,
        status: HealthStatus::from_code(int(4)?.try_into().ok()?)?,
        commune: text(5)?,
    })
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

/// A structurally valid, not yet verified token.
pub(crate) struct Signed(CoseSign1);

/// Decodes up to the key id: bounded length, prefix, Base45, CBOR, tagged COSE_Sign1, algorithm.
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
    let sign1 = CoseSign1::from_tagged_slice(&bytes).map_err(|e| match e {
        CoseError::DecodeFailed(_) | CoseError::ExtraneousData => {
            Rejection::new(Reason::BadCbor, e.to_string())
        }
        e => Rejection::new(Reason::BadCose, format!("not a COSE_Sign1 tagged 18: {e}")),
    })?;
    let header = &sign1.protected.header;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(Rejection::new(
            Reason::WrongAlgorithm,
            "KD1 keys are bound to EdDSA",
        ));
    }
    let kid: [u8; 8] = header
        .key_id
        .as_slice()
        .try_into()
        .map_err(|_| Rejection::new(Reason::UnknownKey, "key id is not 8 bytes"))?;
    Ok((Kid(kid), Signed(sign1)))
}

/// Checks the signature with the key the kid named, then the claims and their validity at `now`.
pub(crate) fn verify(
    signed: Signed,
    key: &ed25519_dalek::VerifyingKey,
    now: DateTime<Utc>,
) -> Result<PassClaims, Rejection> {
    let sign1 = signed.0;
    sign1
        .verify_signature(b"", |sig, data| {
            let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| ())?;
            key.verify_strict(data, &sig).map_err(|_| ())
        })
        .map_err(|_| Rejection::new(Reason::BadSignature, "signature does not verify"))?;
    let claims = parse_claims(sign1.payload.as_deref().unwrap_or_default())?;
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

/// Reads the CWT claims straight from the CBOR map: the five claims a pass has, nothing else required.
fn parse_claims(payload: &[u8]) -> Result<PassClaims, Rejection> {
    let bad = |what: &str| Rejection::new(Reason::BadClaims, what.to_owned());
    let value: Value =
        ciborium::from_reader(payload).map_err(|e| bad(&format!("claims are not CBOR: {e}")))?;
    let map = value.as_map().ok_or_else(|| bad("claims are not a map"))?;
    let claim = |key: i64| {
        map.iter()
            .find(|(k, _)| k.as_integer() == Some(key.into()))
            .map(|(_, v)| v)
    };
    let time = |key: i64, name: &str| {
        claim(key)
            .and_then(Value::as_integer)
            .and_then(|i| i64::try_from(i).ok())
            .and_then(|s| Utc.timestamp_opt(s, 0).single())
            .ok_or_else(|| bad(&format!("{name} missing or not whole seconds")))
    };
    Ok(PassClaims {
        issuer: claim(1)
            .and_then(Value::as_text)
            .ok_or_else(|| bad("iss missing"))?
            .to_owned(),
        pass_id: claim(7)
            .and_then(Value::as_bytes)
            .and_then(|b| b.as_slice().try_into().ok())
            .map(PassId)
            .ok_or_else(|| bad("cti is not a 16-byte pass id"))?,
        issued_at: time(6, "iat")?,
        expires_at: time(4, "exp")?,
        holder: claim(HOLDER_CLAIM)
            .and_then(holder_from_cbor)
            .ok_or_else(|| bad("holder claim missing or malformed"))?,
    })
}
