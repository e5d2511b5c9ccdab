//! Offline HC1 verification: the checks of the EU DCC conformance vectors, in their order, each reported.

use crate::cert::{CertType, Dsc, PublicKey};
use crate::trust::TrustList;
use chrono::{DateTime, Utc};
use ciborium::Value as Cbor;
use serde::de::{
    self, DeserializeSeed, EnumAccess, IgnoredAny, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde::{Deserialize, Deserializer, Serialize};
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

struct Claims {
    iss: Option<String>,
    iat: Option<i64>,
    exp: Option<i64>,
    dcc: Json,
}

/// The CWT claims read straight from the CBOR, the DCC into JSON without a CBOR tree in between (it is the bulk of
/// the payload). Labels other than integers, and claims not used here, are skipped.
fn parse_claims(payload: &[u8]) -> Option<Claims> {
    ciborium::from_reader(payload).ok()
}

impl<'de> Deserialize<'de> for Claims {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Claims, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Claims;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("CWT claims")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
                let (mut iss, mut iat, mut exp, mut dcc) = (None, None, None, None);
                while let Some(Label(label)) = map.next_key()? {
                    match label {
                        Some(1) => iss = Some(map.next_value::<String>()?),
                        Some(6) => iat = Some(map.next_value::<NumericDate>()?.0),
                        Some(4) => exp = Some(map.next_value::<NumericDate>()?.0),
                        Some(-260) => dcc = map.next_value::<HealthCertificate>()?.0,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                let dcc = dcc.ok_or_else(|| de::Error::missing_field("hcert 1"))?;
                Ok(Claims { iss, iat, exp, dcc })
            }
        }
        d.deserialize_map(Visit)
    }
}

/// A map key: its integer value, or `None` for a key of any other type (read and dropped).
struct Label(Option<i128>);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = Label;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map key")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Label, E> {
                Ok(Label(Some(v.into())))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Label, E> {
                Ok(Label(Some(v.into())))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Label, E> {
                Ok(Label(Some(v)))
            }
            fn visit_str<E>(self, _: &str) -> Result<Label, E> {
                Ok(Label(None))
            }
            fn visit_bytes<E>(self, _: &[u8]) -> Result<Label, E> {
                Ok(Label(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Label, E> {
                Ok(Label(None))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Label, E> {
                Ok(Label(None))
            }
            fn visit_none<E>(self) -> Result<Label, E> {
                Ok(Label(None))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Label, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Label(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Label, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Label(None))
            }
            fn visit_enum<A: EnumAccess<'de>>(self, tagged: A) -> Result<Label, A::Error> {
                let (IgnoredAny, inner) = tagged.variant()?;
                inner.newtype_variant::<IgnoredAny>()?;
                Ok(Label(None))
            }
        }
        d.deserialize_any(Visit)
    }
}

/// A CWT NumericDate in whole seconds: an integer, or a float (RFC 8392 allows a fraction; some issuers write one)
/// rounded down, optionally under tag 1.
struct NumericDate(i64);

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<NumericDate, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = NumericDate;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a NumericDate")
            }
            fn visit_i64<E>(self, v: i64) -> Result<NumericDate, E> {
                Ok(NumericDate(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumericDate, E> {
                i64::try_from(v)
                    .map(NumericDate)
                    .map_err(|_| E::custom("date out of range"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumericDate, E> {
                if v.is_finite() && v.abs() < 1e15 {
                    Ok(NumericDate(v.floor() as i64))
                } else {
                    Err(E::custom("date out of range"))
                }
            }
            // ciborium hands a tag over as an enum whose tuple variant holds the tag number, then the item.
            fn visit_enum<A: EnumAccess<'de>>(self, tagged: A) -> Result<NumericDate, A::Error> {
                let (IgnoredAny, inner) = tagged.variant()?;
                inner.tuple_variant(2, Tagged)
            }
        }
        struct Tagged;
        impl<'de> Visitor<'de> for Tagged {
            type Value = NumericDate;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a tagged NumericDate")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut tag: A) -> Result<NumericDate, A::Error> {
                let missing = || de::Error::custom("an empty tag");
                if tag.next_element::<u64>()?.ok_or_else(missing)? != 1 {
                    return Err(de::Error::custom("not an epoch date"));
                }
                tag.next_element()?.ok_or_else(missing)
            }
        }
        d.deserialize_any(Visit)
    }
}

/// The `hcert` claim (-260): a map whose entry 1 is the DCC, `None` when it has none.
struct HealthCertificate(Option<Json>);

impl<'de> Deserialize<'de> for HealthCertificate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HealthCertificate, D::Error> {
        struct Visit;
        impl<'de> Visitor<'de> for Visit {
            type Value = HealthCertificate;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the hcert map")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<HealthCertificate, A::Error> {
                let mut dcc = None;
                while let Some(Label(label)) = map.next_key()? {
                    if label == Some(1) {
                        dcc = Some(map.next_value_seed(DccJson { depth: 0 })?);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(HealthCertificate(dcc))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// CBOR to JSON for the DCC: text, numbers, booleans, null, arrays and text-keyed maps, at most 16 levels deep;
/// tags are looked through; the DCC itself must be a map.
#[derive(Clone, Copy)]
struct DccJson {
    depth: u32,
}

impl<'de> DeserializeSeed<'de> for DccJson {
    type Value = Json;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json, D::Error> {
        if self.depth > 16 {
            return Err(de::Error::custom("nested too deeply"));
        }
        if self.depth == 0 {
            d.deserialize_map(self)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for DccJson {
    type Value = Json;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a DCC value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json, E> {
        Ok(Json::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json, E> {
        Ok(Json::from(v))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Json, E> {
        i64::try_from(v)
            .map(Json::from)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Json, E> {
        u64::try_from(v)
            .map(Json::from)
            .map_err(|_| E::custom("integer out of range"))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json, E> {
        serde_json::Number::from_f64(v)
            .map(Json::Number)
            .ok_or_else(|| E::custom("not a finite number"))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json, E> {
        Ok(Json::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Json, E> {
        Ok(Json::String(v))
    }
    fn visit_none<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_unit<E>(self) -> Result<Json, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json, A::Error> {
        let inner = DccJson {
            depth: self.depth + 1,
        };
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Json::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json, A::Error> {
        let inner = DccJson {
            depth: self.depth + 1,
        };
        let mut out = serde_json::Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(inner)?;
            // A member written as null is absent: some issuers' encoders write every optional field, null when
            // unused (`"t": null` beside `"v": [...]`), and the EU verifiers read them as absent.
            if !v.is_null() {
                out.insert(key, v);
            }
        }
        Ok(Json::Object(out))
    }
    fn visit_enum<A: EnumAccess<'de>>(self, tagged: A) -> Result<Json, A::Error> {
        let (IgnoredAny, inner) = tagged.variant()?;
        inner.newtype_variant_seed(DccJson {
            depth: self.depth + 1,
        })
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cbor(v: &Cbor) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::into_writer(v, &mut out).expect("encodes");
        out
    }

    fn text(s: &str) -> Cbor {
        Cbor::Text(s.into())
    }

    fn claims(entries: Vec<(Cbor, Cbor)>) -> Option<Claims> {
        parse_claims(&cbor(&Cbor::Map(entries)))
    }

    fn hcert(dcc: Cbor) -> (Cbor, Cbor) {
        (Cbor::from(-260), Cbor::Map(vec![(Cbor::from(1), dcc)]))
    }

    #[test]
    fn claims_read_dates_in_every_form_and_skip_what_is_not_used() {
        let dcc = Cbor::Map(vec![
            (text("ver"), text("1.3.0")),
            (text("t"), Cbor::Null),
            (
                text("v"),
                Cbor::Array(vec![Cbor::Map(vec![(text("dn"), Cbor::from(2))])]),
            ),
            (text("dob"), Cbor::Tag(1004, Box::new(text("1980-01-01")))),
        ]);
        let c = claims(vec![
            (Cbor::from(1), text("VN")),
            (Cbor::from(6), Cbor::Float(1_700_000_000.9)),
            (
                Cbor::from(4),
                Cbor::Tag(1, Box::new(Cbor::from(1_800_000_000))),
            ),
            (text("not a label"), Cbor::Array(vec![Cbor::Bool(true)])),
            (Cbor::from(99), Cbor::Map(vec![(text("x"), Cbor::Null)])),
            hcert(dcc),
        ])
        .expect("parses");
        assert_eq!(c.iss.as_deref(), Some("VN"));
        assert_eq!((c.iat, c.exp), (Some(1_700_000_000), Some(1_800_000_000)));
        assert_eq!(
            c.dcc,
            json!({"ver": "1.3.0", "v": [{"dn": 2}], "dob": "1980-01-01"}),
            "a null member is absent and a tag is looked through"
        );
    }

    #[test]
    fn claims_refuse_what_json_cannot_hold() {
        let with = |v: Cbor| claims(vec![hcert(Cbor::Map(vec![(text("x"), v)]))]);
        assert!(with(text("ok")).is_some());
        assert!(with(Cbor::Bytes(vec![1])).is_none(), "bytes");
        assert!(with(Cbor::Float(f64::NAN)).is_none(), "NaN");
        assert!(
            claims(vec![hcert(Cbor::Map(vec![(Cbor::from(1), text("x"))]))]).is_none(),
            "an integer key inside the DCC"
        );
        assert!(claims(vec![hcert(text("not a map"))]).is_none());
        assert!(
            claims(vec![(Cbor::from(1), text("VN"))]).is_none(),
            "no DCC"
        );
        assert!(
            claims(vec![
                (Cbor::from(6), text("yesterday")),
                hcert(Cbor::Map(vec![]))
            ])
            .is_none(),
            "a date that is text"
        );
        let date = |v: Cbor| claims(vec![(Cbor::from(4), v), hcert(Cbor::Map(vec![]))]);
        assert!(
            date(Cbor::Tag(0, Box::new(Cbor::from(5)))).is_none(),
            "tag 0 is a text date"
        );
        assert!(
            date(Cbor::Array(vec![Cbor::from(1), Cbor::from(5)])).is_none(),
            "an array is no tag"
        );
        assert_eq!(
            date(Cbor::Tag(1, Box::new(Cbor::from(5)))).and_then(|c| c.exp),
            Some(5)
        );
        let mut deep = text("x");
        for _ in 0..17 {
            deep = Cbor::Array(vec![deep]);
        }
        assert!(with(deep).is_none(), "deeper than 16 levels");
    }
}
