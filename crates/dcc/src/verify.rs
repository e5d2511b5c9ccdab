//! Offline HC1 verification: the checks of the EU DCC conformance vectors, in their order, each reported.

use crate::cert::{CertType, Dsc, PublicKey};
use crate::trust::TrustList;
use chrono::{DateTime, Utc};
use ciborium::Value as Cbor;
use serde::Serialize;
use serde_json::Value as Json;

/// The `HC1:` prefix.
pub const PREFIX: &str = "HC1:";
/// The longest string accepted: an alphanumeric QR code's capacity.
pub const MAX_HC1_LEN: usize = 4_296;
/// Decompressed payloads larger than this are refused (a zlib bomb guard; real ones are a few hundred bytes).
const MAX_INFLATED: usize = 64 * 1024;

/// COSE algorithm ids.
const ES256: i64 = -7;
const PS256: i64 = -37;

/// Each check: `Some(true)` passed, `Some(false)` failed, `None` not reached.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Checks {
    pub unprefix: Option<bool>,
    pub b45decode: Option<bool>,
    pub compression: Option<bool>,
    pub decode: Option<bool>,
    pub verify: Option<bool>,
    pub expiration: Option<bool>,
    pub schema: Option<bool>,
    pub key_usage: Option<bool>,
}

impl Checks {
    pub fn all_passed(&self) -> bool {
        [
            self.unprefix,
            self.b45decode,
            self.compression,
            self.decode,
            self.verify,
            self.expiration,
            self.schema,
            self.key_usage,
        ]
        .iter()
        .all(|c| *c == Some(true))
    }
}

/// Why a certificate is refused (the first failing check), or `Valid`. The CLI and server turn it into words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Valid,
    TooLong,
    NoPrefix,
    BadBase45,
    BadCompression,
    /// Not a COSE_Sign1 (tag 18, optionally inside CWT tag 61, or untagged) of four parts.
    BadCose,
    /// The CWT claims are malformed or lack the certificate (-260 → {1: map}).
    BadClaims,
    UnsupportedAlgorithm,
    /// No trusted DSC has the kid the HC1 names (or the trust list is empty).
    UnknownKid,
    BadSignature,
    /// `iat` lies after now.
    NotYetValid,
    /// `exp` has passed, or is missing.
    Expired,
    /// Now lies outside the signing DSC's validity.
    DscNotValid,
    /// The payload's `ver` names no known schema version.
    UnknownSchemaVersion,
    SchemaViolation,
    /// Not exactly one type of certificate (one of `v`, `t`, `r`): a DCC holds one kind of event.
    NotOneEntry,
    /// The DSC's extended key usage does not allow this type of certificate.
    WrongKeyUsage,
}

impl Reason {
    pub fn code(self) -> &'static str {
        match self {
            Reason::Valid => "valid",
            Reason::TooLong => "too_long",
            Reason::NoPrefix => "no_prefix",
            Reason::BadBase45 => "bad_base45",
            Reason::BadCompression => "bad_compression",
            Reason::BadCose => "bad_cose",
            Reason::BadClaims => "bad_claims",
            Reason::UnsupportedAlgorithm => "unsupported_algorithm",
            Reason::UnknownKid => "unknown_kid",
            Reason::BadSignature => "bad_signature",
            Reason::NotYetValid => "not_yet_valid",
            Reason::Expired => "expired",
            Reason::DscNotValid => "dsc_not_valid",
            Reason::UnknownSchemaVersion => "unknown_schema_version",
            Reason::SchemaViolation => "schema_violation",
            Reason::NotOneEntry => "not_one_entry",
            Reason::WrongKeyUsage => "wrong_key_usage",
        }
    }
}

/// What verification concluded.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub checks: Checks,
    pub reason: Reason,
    /// The DCC as JSON once decoded (also when a later check fails, for display).
    pub payload: Option<Json>,
    pub issuer: Option<String>,
    pub issued_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The certificate type(s) present in the payload.
    pub kinds: Vec<CertType>,
    /// The kid of the DSC whose signature verified.
    pub dsc_kid: Option<[u8; 8]>,
    /// Detail for logs and the CLI (the schema path that failed, …); never shown as the reason.
    pub detail: Option<String>,
}

impl Report {
    pub fn valid(&self) -> bool {
        self.reason == Reason::Valid
    }
}

struct Cose {
    protected: Vec<u8>,
    unprotected: Vec<(Cbor, Cbor)>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

fn parse_cose(bytes: &[u8]) -> Option<Cose> {
    let mut v: Cbor = ciborium::from_reader(bytes).ok()?;
    // COSE_Sign1 tag 18, optionally wrapped in the CWT tag 61; untagged is accepted too.
    if let Cbor::Tag(61, inner) = v {
        v = *inner;
    }
    if let Cbor::Tag(tag, inner) = v {
        if tag != 18 {
            return None;
        }
        v = *inner;
    }
    let Cbor::Array(parts) = v else { return None };
    let [protected, unprotected, payload, signature]: [Cbor; 4] = parts.try_into().ok()?;
    let unprotected = match unprotected {
        Cbor::Map(m) => m,
        _ => return None,
    };
    match (protected, payload, signature) {
        (Cbor::Bytes(p), Cbor::Bytes(pl), Cbor::Bytes(s)) => Some(Cose {
            protected: p,
            unprotected,
            payload: pl,
            signature: s,
        }),
        _ => None,
    }
}

fn header_entry(map: &[(Cbor, Cbor)], label: i64) -> Option<&Cbor> {
    map.iter()
        .find(|(k, _)| {
            k.as_integer()
                .is_some_and(|i| i128::from(i) == i128::from(label))
        })
        .map(|(_, v)| v)
}

fn as_i64(v: &Cbor) -> Option<i64> {
    match v {
        Cbor::Integer(i) => i64::try_from(i128::from(*i)).ok(),
        // Some issuers write NumericDate with a fraction (RFC 8392 allows it): whole seconds, rounded down.
        Cbor::Float(f) if f.is_finite() && f.abs() < 1e15 => Some(f.floor() as i64),
        Cbor::Tag(1, inner) => as_i64(inner),
        _ => None,
    }
}

/// CBOR to JSON for the DCC: text, numbers, booleans, null, arrays and text-keyed maps; tags are looked through.
fn to_json(v: Cbor, depth: u32) -> Option<Json> {
    if depth > 16 {
        return None;
    }
    Some(match v {
        Cbor::Text(s) => Json::String(s),
        Cbor::Integer(i) => {
            let i = i128::from(i);
            match (i64::try_from(i), u64::try_from(i)) {
                (Ok(n), _) => Json::from(n),
                (_, Ok(n)) => Json::from(n),
                _ => return None,
            }
        }
        Cbor::Float(f) => serde_json::Number::from_f64(f).map(Json::Number)?,
        Cbor::Bool(b) => Json::Bool(b),
        Cbor::Null => Json::Null,
        Cbor::Tag(_, inner) => to_json(*inner, depth + 1)?,
        Cbor::Array(a) => Json::Array(
            a.into_iter()
                .map(|x| to_json(x, depth + 1))
                .collect::<Option<_>>()?,
        ),
        Cbor::Map(m) => {
            let mut out = serde_json::Map::with_capacity(m.len());
            for (k, val) in m {
                let Cbor::Text(k) = k else { return None };
                // A member written as null is absent: some issuers' encoders write every optional field, null
                // when unused (`"t": null` beside `"v": [...]`), and the EU verifiers read them as absent.
                if val.is_null() {
                    continue;
                }
                out.insert(k, to_json(val, depth + 1)?);
            }
            Json::Object(out)
        }
        _ => return None,
    })
}

struct Claims {
    iss: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    dcc: Json,
}

fn parse_claims(payload: &[u8]) -> Option<Claims> {
    let v: Cbor = ciborium::from_reader(payload).ok()?;
    let Cbor::Map(map) = v else { return None };
    let (mut iss, mut iat, mut exp, mut hcert) = (None, None, None, None);
    for (k, val) in map {
        match k.as_integer().map(i128::from) {
            Some(1) => iss = Some(val.into_text().ok()?),
            Some(6) => iat = Some(as_i64(&val)?),
            Some(4) => exp = Some(as_i64(&val)?),
            Some(-260) => hcert = Some(val),
            _ => {}
        }
    }
    let Cbor::Map(hcert) = hcert? else {
        return None;
    };
    let dcc = hcert
        .into_iter()
        .find(|(k, _)| k.as_integer().is_some_and(|i| i128::from(i) == 1))
        .map(|(_, v)| v)?;
    if !dcc.is_map() {
        return None;
    }
    Some(Claims {
        iss,
        iat,
        exp,
        dcc: to_json(dcc, 0)?,
    })
}

/// The COSE Sig_structure `["Signature1", protected, h'', payload]`.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(protected.len() + payload.len() + 24);
    out.extend_from_slice(b"\x84\x6aSignature1");
    bytes_head(&mut out, protected.len());
    out.extend_from_slice(protected);
    out.push(0x40);
    bytes_head(&mut out, payload.len());
    out.extend_from_slice(payload);
    out
}

fn bytes_head(out: &mut Vec<u8>, n: usize) {
    match n {
        0..=23 => out.push(0x40 | n as u8),
        24..=0xff => out.extend_from_slice(&[0x58, n as u8]),
        0x100..=0xffff => {
            out.push(0x59);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        _ => {
            out.push(0x5a);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        }
    }
}

fn signature_ok(dsc: &Dsc, alg: i64, tbs: &[u8], sig: &[u8]) -> bool {
    match (&dsc.key, alg) {
        (PublicKey::Ec(..) | PublicKey::EcP384(_), ES256) | (PublicKey::Rsa(_), PS256) => {
            dsc.key.verifies(tbs, sig)
        }
        _ => false,
    }
}

/// The certificate types present (`v`, `t`, `r` keys holding a non-empty array).
fn kinds(dcc: &Json) -> Vec<CertType> {
    CertType::ALL
        .into_iter()
        .filter(|k| matches!(dcc.get(k.key()), Some(Json::Array(a)) if !a.is_empty()))
        .collect()
}

fn fail(checks: Checks, reason: Reason) -> Report {
    Report {
        checks,
        reason,
        payload: None,
        issuer: None,
        issued_at: None,
        expires_at: None,
        kinds: Vec::new(),
        dsc_kid: None,
        detail: None,
    }
}

/// The zlib stream of an HC1 inflated, or `None` when it is broken or inflates past `MAX_INFLATED`. The output is
/// the window (no 32 KiB window set up per call, as a streaming decoder does), and each thread keeps its decompressor
/// (11 KiB of tables, reset, not reallocated, per certificate).
fn inflate(compressed: &[u8]) -> Option<Vec<u8>> {
    use miniz_oxide::inflate::TINFLStatus;
    use miniz_oxide::inflate::core::{DecompressorOxide, decompress, inflate_flags};
    thread_local! {
        static DECOMPRESSOR: std::cell::RefCell<Box<DecompressorOxide>> = std::cell::RefCell::default();
    }
    let flags = inflate_flags::TINFL_FLAG_PARSE_ZLIB_HEADER
        | inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    DECOMPRESSOR.with_borrow_mut(|state| {
        state.init();
        let mut out = vec![0; (compressed.len() * 4).clamp(1024, MAX_INFLATED)];
        let (mut read, mut written) = (0, 0);
        loop {
            let (status, r, w) = decompress(state, &compressed[read..], &mut out, written, flags);
            (read, written) = (read + r, written + w);
            match status {
                TINFLStatus::Done => {
                    out.truncate(written);
                    return Some(out);
                }
                TINFLStatus::HasMoreOutput if out.len() < MAX_INFLATED => {
                    out.resize((out.len() * 2).min(MAX_INFLATED), 0);
                }
                _ => return None,
            }
        }
    })
}

/// Verifies an `HC1:` string against a trust list at `now`. The decoding steps stop at the first failure; once the
/// COSE and CWT are decoded, signature, expiration, schema and key usage are each evaluated (key usage only when a
/// DSC verified the signature) so that the report says everything that is wrong. `reason` is the first failure.
pub fn verify(hc1: &str, trust: &TrustList, now: DateTime<Utc>) -> Report {
    let mut c = Checks::default();
    if hc1.len() > MAX_HC1_LEN {
        return fail(c, Reason::TooLong);
    }
    let Some(body) = hc1.strip_prefix(PREFIX) else {
        c.unprefix = Some(false);
        return fail(c, Reason::NoPrefix);
    };
    c.unprefix = Some(true);
    let Some(compressed) = kiemdich_pass::base45::decode(body) else {
        c.b45decode = Some(false);
        return fail(c, Reason::BadBase45);
    };
    c.b45decode = Some(true);
    let Some(inflated) = inflate(&compressed) else {
        c.compression = Some(false);
        return fail(c, Reason::BadCompression);
    };
    c.compression = Some(true);
    let Some(cose) = parse_cose(&inflated) else {
        c.decode = Some(false);
        return fail(c, Reason::BadCose);
    };
    let protected: Vec<(Cbor, Cbor)> = if cose.protected.is_empty() {
        Vec::new()
    } else {
        match ciborium::from_reader::<Cbor, _>(cose.protected.as_slice()) {
            Ok(Cbor::Map(m)) => m,
            _ => {
                c.decode = Some(false);
                return fail(c, Reason::BadCose);
            }
        }
    };
    let Some(claims) = parse_claims(&cose.payload) else {
        c.decode = Some(false);
        return fail(c, Reason::BadClaims);
    };
    c.decode = Some(true);
    let mut report = fail(c, Reason::Valid);
    fn first(r: &mut Report, reason: Reason) {
        if r.reason == Reason::Valid {
            r.reason = reason;
        }
    }

    // Signature: the kid of the protected header wins; the unprotected one is used only when it has none.
    let kid = header_entry(&protected, 4)
        .or_else(|| header_entry(&cose.unprotected, 4))
        .and_then(Cbor::as_bytes)
        .map(Vec::as_slice);
    let alg = header_entry(&protected, 1)
        .or_else(|| header_entry(&cose.unprotected, 1))
        .and_then(as_i64);
    let tbs = sig_structure(&cose.protected, &cose.payload);
    let mut signer = None;
    match alg {
        Some(alg @ (ES256 | PS256)) => {
            let mut tried = false;
            for dsc in trust.candidates(kid) {
                tried = true;
                if signature_ok(dsc, alg, &tbs, &cose.signature) {
                    signer = Some(dsc);
                    break;
                }
            }
            if signer.is_none() {
                first(
                    &mut report,
                    if tried {
                        Reason::BadSignature
                    } else {
                        Reason::UnknownKid
                    },
                );
            }
        }
        _ => first(&mut report, Reason::UnsupportedAlgorithm),
    }
    report.checks.verify = Some(signer.is_some());
    report.dsc_kid = signer.map(Dsc::kid);

    // Expiration: iat not in the future, exp not passed, and the DSC valid now.
    let ts = |t: i64| DateTime::<Utc>::from_timestamp(t, 0);
    report.issued_at = claims.iat.and_then(ts);
    report.expires_at = claims.exp.and_then(ts);
    let now_s = now.timestamp();
    let expiration = if claims.iat.is_some_and(|iat| iat > now_s) {
        first(&mut report, Reason::NotYetValid);
        false
    } else if claims.exp.is_none_or(|exp| exp < now_s) {
        first(&mut report, Reason::Expired);
        false
    } else if signer.is_some_and(|d| now < d.not_before() || now > d.not_after()) {
        first(&mut report, Reason::DscNotValid);
        false
    } else {
        true
    };
    report.checks.expiration = Some(expiration);

    // The schema of the payload's own version, or else the newest release (which the EU reference verifiers apply
    // to every DCC: later releases relax the first, e.g. partial dates of birth); and exactly one certificate entry.
    // The failure named is the own version's.
    let kinds = kinds(&claims.dcc);
    let schema = match claims
        .dcc
        .get("ver")
        .and_then(Json::as_str)
        .and_then(crate::schema::for_version)
    {
        None => {
            first(&mut report, Reason::UnknownSchemaVersion);
            false
        }
        Some((_, schema)) => {
            match schema
                .validate(&claims.dcc)
                .or_else(|own| match crate::schema::newest() {
                    Some((_, newest)) => newest.validate(&claims.dcc).map_err(|_| own),
                    None => Err(own),
                }) {
                Err(e) => {
                    report.detail = Some(e);
                    first(&mut report, Reason::SchemaViolation);
                    false
                }
                Ok(()) if kinds.len() != 1 => {
                    first(&mut report, Reason::NotOneEntry);
                    false
                }
                Ok(()) => true,
            }
        }
    };
    report.checks.schema = Some(schema);

    // Key usage of the DSC that signed.
    let key_usage = signer.map(|d| !kinds.is_empty() && kinds.iter().all(|k| d.allows(*k)));
    if key_usage == Some(false) {
        first(&mut report, Reason::WrongKeyUsage);
    }
    report.checks.key_usage = key_usage;
    report.kinds = kinds;
    report.issuer = claims.iss;
    report.payload = Some(claims.dcc);
    report
}

/// The DCC of an HC1 as JSON without any check beyond decoding (for issuance self-checks and display).
pub(crate) fn decode_payload(hc1: &str) -> Option<Json> {
    let compressed = kiemdich_pass::base45::decode(hc1.strip_prefix(PREFIX)?)?;
    let inflated = inflate(&compressed)?;
    parse_claims(&parse_cose(&inflated)?.payload).map(|c| c.dcc)
}
