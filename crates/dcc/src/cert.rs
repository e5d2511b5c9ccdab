//! X.509 for HC1: reading DSC certificates (PEM, DER or base64 DER), their kid, validity, key and usages; making a
//! CSCA, a DSC key and request, and signing a request with the CSCA.

use crate::Error;
use crate::p256_table::Table;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use der::asn1::ObjectIdentifier;
use der::{Decode, Encode, EncodePem};
use p256::AffinePoint;
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use ring::signature::{ECDSA_P384_SHA256_ASN1, RSA_PSS_2048_8192_SHA256, UnparsedPublicKey};
use sha2::{Digest, Sha256};
use spki::{EncodePublicKey, SubjectPublicKeyInfoRef};
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder, RequestBuilder};
use x509_cert::certificate::{Certificate, TbsCertificate};
use x509_cert::ext::pkix::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages,
    SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::request::CertReq;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

/// The kind of certificate an HC1 carries (`v`, `t` or `r`), which is also what a DSC may be allowed to sign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CertType {
    Test,
    Vaccination,
    Recovery,
}

impl CertType {
    pub const ALL: [CertType; 3] = [CertType::Test, CertType::Vaccination, CertType::Recovery];

    /// The last arc of the usage OID (`…2021.1.x`).
    fn arc(self) -> u32 {
        match self {
            CertType::Test => 1,
            CertType::Vaccination => 2,
            CertType::Recovery => 3,
        }
    }

    /// The extended key usage OID that allows a DSC to sign this type.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            CertType::Test => OID_TEST,
            CertType::Vaccination => OID_VACCINATION,
            CertType::Recovery => OID_RECOVERY,
        }
    }

    /// The payload key: `t`, `v` or `r`.
    pub fn key(self) -> &'static str {
        match self {
            CertType::Test => "t",
            CertType::Vaccination => "v",
            CertType::Recovery => "r",
        }
    }

    pub fn parse(s: &str) -> Option<CertType> {
        match s.trim() {
            "test" | "t" => Some(CertType::Test),
            "vaccination" | "v" => Some(CertType::Vaccination),
            "recovery" | "r" => Some(CertType::Recovery),
            _ => None,
        }
    }
}

const OID_TEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.1847.2021.1.1");
const OID_VACCINATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.1847.2021.1.2");
const OID_RECOVERY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.1847.2021.1.3");
const EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
/// The named curve P-384 (secp384r1).
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const RSA_PSS: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.10");

/// The usage a DSC's extended key usage OID grants, in the current spelling `1.3.6.1.4.1.1847.2021.1.x` or the
/// early misprint `1.3.6.1.4.1.0.1847.2021.1.x` (accepted as the German app does).
fn usage_of(oid: &ObjectIdentifier) -> Option<CertType> {
    let arcs: Vec<u32> = oid.arcs().collect();
    let tail = match arcs.as_slice() {
        [1, 3, 6, 1, 4, 1, 1847, 2021, 1, x] | [1, 3, 6, 1, 4, 1, 0, 1847, 2021, 1, x] => *x,
        _ => return None,
    };
    CertType::ALL.into_iter().find(|t| t.arc() == tail)
}

/// The first 8 bytes of SHA-256 of a certificate's DER: the HC1 key id.
pub fn kid_of(der: &[u8]) -> [u8; 8] {
    let digest = Sha256::digest(der);
    let mut kid = [0u8; 8];
    kid.copy_from_slice(&digest[..8]);
    kid
}

/// A public key ready to verify with: read and checked once when the DSC is parsed, so verification does no
/// certificate or key decoding. P-256 keys are a checked curve point (a compressed point in the certificate is
/// expanded here) verified by `p256_table`; P-384 keys are the uncompressed SEC1 point and RSA keys the PKCS#1
/// `RSAPublicKey` DER of the certificate, both verified by ring.
#[derive(Clone)]
pub(crate) enum PublicKey {
    /// A P-256 key, with its verification table built on the first signature it checks (shared by clones).
    Ec(AffinePoint, Arc<OnceLock<Table>>),
    /// A P-384 key signing SHA-256 digests under the ES256 label, as some DSCs in service did (Spain's); the EU
    /// reference verifiers accept them (Java's SHA256withECDSA takes any curve), so this verifier does too.
    EcP384(UnparsedPublicKey<Vec<u8>>),
    Rsa(UnparsedPublicKey<Vec<u8>>),
}

impl PublicKey {
    /// Whether `sig` is this key's signature of `msg` (ES256 raw r‖s, or PS256).
    pub(crate) fn verifies(&self, msg: &[u8], sig: &[u8]) -> bool {
        match self {
            PublicKey::Ec(point, table) => {
                crate::p256_table::verify(table.get_or_init(|| Table::new(point)), msg, sig)
            }
            PublicKey::Rsa(k) => k.verify(msg, sig).is_ok(),
            PublicKey::EcP384(k) => {
                sig.len() == 96
                    && k.verify(msg, &der_signature(&sig[..48], &sig[48..]))
                        .is_ok()
            }
        }
    }
}

/// A raw ECDSA signature r‖s as the DER `SEQUENCE { INTEGER r, INTEGER s }` ring's ASN.1 verifiers take.
fn der_signature(r: &[u8], s: &[u8]) -> Vec<u8> {
    let integer = |x: &[u8]| {
        let x = &x[x.iter().position(|b| *b != 0).unwrap_or(x.len())..];
        let pad = x.first().is_none_or(|b| b & 0x80 != 0);
        let mut out = vec![
            0x02,
            u8::try_from(x.len() + usize::from(pad)).unwrap_or(u8::MAX),
        ];
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
        out
    };
    let body = [integer(r), integer(s)].concat();
    let mut out = vec![0x30, u8::try_from(body.len()).unwrap_or(u8::MAX)];
    out.extend(body);
    out
}

/// A DSC as the verifier needs it: kid, validity, usages and the parsed key.
#[derive(Clone)]
pub struct Dsc {
    der: Vec<u8>,
    kid: [u8; 8],
    not_before: DateTime<Utc>,
    not_after: DateTime<Utc>,
    /// The certificate types its extended key usage allows; empty when it names none of the three (valid for all).
    usages: Vec<CertType>,
    pub(crate) key: PublicKey,
    /// The SubjectPublicKeyInfo as DER, for verifiers that import a bare key (a browser's WebCrypto).
    spki: Vec<u8>,
    subject: String,
}

impl std::fmt::Debug for Dsc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dsc")
            .field("subject", &self.subject)
            .field("kid", &STANDARD.encode(self.kid))
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .field("usages", &self.usages)
            .finish()
    }
}

fn time(t: &Time) -> Result<DateTime<Utc>, Error> {
    let secs = i64::try_from(t.to_unix_duration().as_secs())
        .map_err(|_| Error::Certificate("validity out of range".into()))?;
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| Error::Certificate("validity out of range".into()))
}

impl Dsc {
    /// Parses a certificate from DER.
    pub fn from_der(der: &[u8]) -> Result<Dsc, Error> {
        let cert = Certificate::from_der(der).map_err(|e| Error::Certificate(e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let spki_der = spki
            .to_der()
            .map_err(|e| Error::Certificate(format!("public key: {e}")))?;
        let key_bits = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::Certificate("public key has unused bits".into()))?;
        let curve = spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok());
        let key = if spki.algorithm.oid == EC_PUBLIC_KEY && curve == Some(SECP384R1) {
            // ring checks the point when it verifies; an uncompressed P-384 point is 97 bytes.
            if key_bits.len() != 97 || key_bits[0] != 4 {
                return Err(Error::Certificate(
                    "not an uncompressed P-384 public key".into(),
                ));
            }
            PublicKey::EcP384(UnparsedPublicKey::new(
                &ECDSA_P384_SHA256_ASN1,
                key_bits.to_vec(),
            ))
        } else if spki.algorithm.oid == EC_PUBLIC_KEY {
            let key = VerifyingKey::from_sec1_bytes(key_bits)
                .map_err(|_| Error::Certificate("not a P-256 public key".into()))?;
            PublicKey::Ec(*key.as_affine(), Arc::default())
        } else if spki.algorithm.oid == RSA_ENCRYPTION || spki.algorithm.oid == RSA_PSS {
            use rsa::pkcs1::DecodeRsaPublicKey;
            // Checked here (a DER RSAPublicKey); ring takes the same bytes and refuses moduli under 2048 bits.
            rsa::PublicKey::from_pkcs1_der(key_bits)
                .map_err(|e| Error::Certificate(format!("RSA public key: {e}")))?;
            PublicKey::Rsa(UnparsedPublicKey::new(
                &RSA_PSS_2048_8192_SHA256,
                key_bits.to_vec(),
            ))
        } else {
            return Err(Error::Certificate(format!(
                "unsupported public key algorithm {}",
                spki.algorithm.oid
            )));
        };
        let mut usages = Vec::new();
        for ext in tbs.extensions().into_iter().flatten() {
            if ext.extn_id == <ExtendedKeyUsage as der::oid::AssociatedOid>::OID {
                let eku = ExtendedKeyUsage::from_der(ext.extn_value.as_bytes())
                    .map_err(|e| Error::Certificate(format!("extended key usage: {e}")))?;
                usages.extend(eku.0.iter().filter_map(usage_of));
            }
        }
        usages.sort();
        usages.dedup();
        Ok(Dsc {
            kid: kid_of(der),
            der: der.to_vec(),
            not_before: time(&tbs.validity().not_before)?,
            not_after: time(&tbs.validity().not_after)?,
            usages,
            key,
            spki: spki_der,
            subject: tbs.subject().to_string(),
        })
    }

    /// Reads one certificate given as PEM, DER, or base64 DER text.
    pub fn from_any(bytes: &[u8]) -> Result<Dsc, Error> {
        Dsc::from_der(&der_from_any(bytes, "CERTIFICATE")?)
    }

    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The public key as SubjectPublicKeyInfo DER.
    pub fn spki_der(&self) -> &[u8] {
        &self.spki
    }
    pub fn kid(&self) -> [u8; 8] {
        self.kid
    }
    pub fn not_before(&self) -> DateTime<Utc> {
        self.not_before
    }
    pub fn not_after(&self) -> DateTime<Utc> {
        self.not_after
    }
    pub fn subject(&self) -> &str {
        &self.subject
    }
    /// The types its extended key usage names; empty means none of the three, so valid for all.
    pub fn usages(&self) -> &[CertType] {
        &self.usages
    }
    /// The COSE algorithm its key signs with: `ES256` (P-256) or `PS256` (RSA).
    pub fn algorithm(&self) -> &'static str {
        match self.key {
            PublicKey::Ec(..) | PublicKey::EcP384(_) => "ES256",
            PublicKey::Rsa(_) => "PS256",
        }
    }

    /// Whether this DSC may sign a certificate of `kind`.
    pub fn allows(&self, kind: CertType) -> bool {
        self.usages.is_empty() || self.usages.contains(&kind)
    }
    /// The PEM text of the certificate.
    pub fn to_pem(&self) -> String {
        pem_encode("CERTIFICATE", &self.der)
    }
}

fn pem_encode(label: &'static str, der: &[u8]) -> String {
    // Lines of 64 characters, as RFC 7468 writes them.
    let b64 = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(chunk));
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

/// DER bytes from PEM (with the given label), raw DER, or base64 DER text.
pub fn der_from_any(bytes: &[u8], label: &str) -> Result<Vec<u8>, Error> {
    let text = std::str::from_utf8(bytes).ok().map(str::trim);
    match text {
        Some(t) if t.starts_with("-----BEGIN") => {
            let (found, der) = der::pem::decode_vec(t.as_bytes())
                .map_err(|e| Error::Certificate(format!("PEM: {e}")))?;
            if found != label {
                return Err(Error::Certificate(format!(
                    "PEM holds {found}, not {label}"
                )));
            }
            Ok(der)
        }
        Some(t) if !t.is_empty() && bytes.first() != Some(&0x30) => {
            let compact: String = t.split_whitespace().collect();
            STANDARD
                .decode(compact)
                .map_err(|e| Error::Certificate(format!("neither PEM, DER nor base64: {e}")))
        }
        _ => Ok(bytes.to_vec()),
    }
}

fn random_key() -> SigningKey {
    loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the operating system provides randomness");
        if let Ok(key) = SigningKey::from_slice(&seed) {
            return key;
        }
    }
}

fn serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x01; // no leading zero byte to strip
    SerialNumber::new(&bytes).map_err(|e| Error::Certificate(e.to_string()))
}

fn validity(from: DateTime<Utc>, days: u32) -> Result<Validity, Error> {
    let start =
        std::time::UNIX_EPOCH + Duration::from_secs(u64::try_from(from.timestamp()).unwrap_or(0));
    let end = start + Duration::from_secs(u64::from(days) * 86_400);
    let t = |s| Time::try_from(s).map_err(|e: der::Error| Error::Certificate(e.to_string()));
    Ok(Validity::new(t(start)?, t(end)?))
}

fn name(subject: &str) -> Result<Name, Error> {
    Name::from_str(subject).map_err(|e| Error::Certificate(format!("name {subject:?}: {e}")))
}

fn key_id(spk: SubjectPublicKeyInfoRef<'_>) -> Vec<u8> {
    // RFC 5280 method 1: SHA-1 of the key bits; SHA-256 truncated to 20 bytes serves the same purpose.
    Sha256::digest(spk.subject_public_key.raw_bytes())[..20].to_vec()
}

fn ext<'a, E>(e: &'a E, subject: &Name, all: &[Extension]) -> x509_cert::builder::Result<Extension>
where
    &'a E: ToExtension<Error = der::Error>,
{
    e.to_extension(subject, all)
        .map_err(x509_cert::builder::Error::from)
}

/// A self-signed CA that may sign DSCs (path length 0).
struct CscaProfile {
    subject: Name,
}

impl BuilderProfile for CscaProfile {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = Vec::new();
        let bc = BasicConstraints {
            ca: true,
            path_len_constraint: Some(0),
        };
        out.push(ext(&bc, tbs.subject(), &out)?);
        let ku = KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign);
        out.push(ext(&ku, tbs.subject(), &out)?);
        let ski = SubjectKeyIdentifier(
            der::asn1::OctetString::new(key_id(spk)).map_err(x509_cert::builder::Error::from)?,
        );
        out.push(ext(&ski, tbs.subject(), &out)?);
        Ok(out)
    }
}

/// A DSC signed by the CSCA, with the extended key usage for the requested types.
struct DscProfile {
    issuer: Name,
    subject: Name,
    usages: Vec<CertType>,
}

impl BuilderProfile for DscProfile {
    fn get_issuer(&self, _subject: &Name) -> Name {
        self.issuer.clone()
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut out = Vec::new();
        let ku = KeyUsage(KeyUsages::DigitalSignature.into());
        out.push(ext(&ku, tbs.subject(), &out)?);
        let eku = ExtendedKeyUsage(self.usages.iter().map(|u| u.oid()).collect());
        out.push(ext(&eku, tbs.subject(), &out)?);
        let ski = SubjectKeyIdentifier(
            der::asn1::OctetString::new(key_id(spk)).map_err(x509_cert::builder::Error::from)?,
        );
        out.push(ext(&ski, tbs.subject(), &out)?);
        let aki = AuthorityKeyIdentifier {
            key_identifier: Some(
                der::asn1::OctetString::new(key_id(issuer_spk))
                    .map_err(x509_cert::builder::Error::from)?,
            ),
            authority_cert_issuer: None,
            authority_cert_serial_number: None,
        };
        out.push(ext(&aki, tbs.subject(), &out)?);
        Ok(out)
    }
}

/// A CSCA: its private key (PKCS#8 PEM) and self-signed certificate.
pub struct Csca {
    key: SigningKey,
    cert: Certificate,
}

impl Csca {
    /// Makes a self-signed ECDSA P-256 CA for `country` valid `years` from `now`.
    pub fn generate(
        country: &str,
        common_name: &str,
        now: DateTime<Utc>,
        years: u32,
    ) -> Result<Csca, Error> {
        let key = random_key();
        let subject = name(&format!("CN={common_name},C={country}"))?;
        let spki = spki::SubjectPublicKeyInfoOwned::from_key(key.verifying_key())
            .map_err(|e| Error::Certificate(e.to_string()))?;
        let builder = CertificateBuilder::new(
            CscaProfile { subject },
            serial()?,
            validity(now, years * 365)?,
            spki,
        )
        .map_err(|e| Error::Certificate(e.to_string()))?;
        let cert = builder
            .build::<_, DerSignature>(&key)
            .map_err(|e| Error::Certificate(e.to_string()))?;
        Ok(Csca { key, cert })
    }

    /// Reads a CSCA from its key PEM and certificate (PEM or DER).
    pub fn load(key_pem: &str, cert: &[u8]) -> Result<Csca, Error> {
        let key = SigningKey::from_pkcs8_pem(key_pem).map_err(|e| Error::Key(e.to_string()))?;
        let cert = Certificate::from_der(&der_from_any(cert, "CERTIFICATE")?)
            .map_err(|e| Error::Certificate(e.to_string()))?;
        let ours = spki::SubjectPublicKeyInfoOwned::from_key(key.verifying_key())
            .map_err(|e| Error::Certificate(e.to_string()))?;
        if &ours != cert.tbs_certificate().subject_public_key_info() {
            return Err(Error::Key(
                "the key does not belong to the certificate".into(),
            ));
        }
        Ok(Csca { key, cert })
    }

    pub fn key_pem(&self) -> Result<String, Error> {
        Ok(self
            .key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))?
            .to_string())
    }

    pub fn cert_der(&self) -> Result<Vec<u8>, Error> {
        self.cert
            .to_der()
            .map_err(|e| Error::Certificate(e.to_string()))
    }

    pub fn cert_pem(&self) -> Result<String, Error> {
        self.cert
            .to_pem(LineEnding::LF)
            .map_err(|e| Error::Certificate(e.to_string()))
    }

    /// Signs a PKCS#10 request (PEM or DER) into a DSC valid `days` from `now` (never past the CSCA's own end),
    /// allowed to sign `usages` (vaccination when empty). The request's self-signature is checked first.
    pub fn sign_request(
        &self,
        request: &[u8],
        usages: &[CertType],
        now: DateTime<Utc>,
        days: u32,
    ) -> Result<Vec<u8>, Error> {
        let der = der_from_any(request, "CERTIFICATE REQUEST")?;
        let req =
            CertReq::from_der(&der).map_err(|e| Error::Certificate(format!("request: {e}")))?;
        check_request_signature(&req)?;
        let mut usages = if usages.is_empty() {
            vec![CertType::Vaccination]
        } else {
            usages.to_vec()
        };
        usages.sort();
        usages.dedup();
        let csca_end = time(&self.cert.tbs_certificate().validity().not_after)?;
        let max_days = u32::try_from(((csca_end - now).num_seconds() / 86_400).max(0)).unwrap_or(0);
        if max_days == 0 {
            return Err(Error::Certificate("the CSCA has expired".into()));
        }
        let profile = DscProfile {
            issuer: self.cert.tbs_certificate().subject().clone(),
            subject: req.info.subject.clone(),
            usages,
        };
        let builder = CertificateBuilder::new(
            profile,
            serial()?,
            validity(now, days.min(max_days))?,
            req.info.public_key.clone(),
        )
        .map_err(|e| Error::Certificate(e.to_string()))?;
        let cert = builder
            .build::<_, DerSignature>(&self.key)
            .map_err(|e| Error::Certificate(e.to_string()))?;
        cert.to_der().map_err(|e| Error::Certificate(e.to_string()))
    }
}

fn check_request_signature(req: &CertReq) -> Result<(), Error> {
    use p256::ecdsa::signature::Verifier;
    let key = VerifyingKey::from_sec1_bytes(
        req.info
            .public_key
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::Certificate("request key has unused bits".into()))?,
    )
    .map_err(|_| Error::Certificate("the request's key is not ECDSA P-256".into()))?;
    let info = req
        .info
        .to_der()
        .map_err(|e| Error::Certificate(e.to_string()))?;
    let sig = p256::ecdsa::Signature::from_der(
        req.signature
            .as_bytes()
            .ok_or_else(|| Error::Certificate("request signature has unused bits".into()))?,
    )
    .map_err(|_| Error::Certificate("request signature is not ECDSA".into()))?;
    key.verify(&info, &sig)
        .map_err(|_| Error::Certificate("the request's signature does not verify".into()))
}

/// A DSC's private key with a fresh PKCS#10 request for the CSCA to sign.
pub struct DscRequest {
    pub key_pem: String,
    pub request_pem: String,
}

/// Makes a DSC key and its certificate request with subject `CN=common_name,C=country`.
pub fn dsc_request(country: &str, common_name: &str) -> Result<DscRequest, Error> {
    let key = random_key();
    let builder = RequestBuilder::new(name(&format!("CN={common_name},C={country}"))?)
        .map_err(|e| Error::Certificate(e.to_string()))?;
    let req = builder
        .build::<_, DerSignature>(&key)
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(DscRequest {
        key_pem: key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| Error::Key(e.to_string()))?
            .to_string(),
        request_pem: req
            .to_pem(LineEnding::LF)
            .map_err(|e| Error::Certificate(e.to_string()))?,
    })
}

/// The key a DSC signs with, checked against its certificate.
pub struct DscSigner {
    pub(crate) key: SigningKey,
    pub(crate) dsc: Dsc,
}

impl DscSigner {
    /// Loads a DSC signer from its PKCS#8 PEM key and its certificate (PEM, DER or base64 DER).
    pub fn load(key_pem: &str, cert: &[u8]) -> Result<DscSigner, Error> {
        let key = SigningKey::from_pkcs8_pem(key_pem).map_err(|e| Error::Key(e.to_string()))?;
        let dsc = Dsc::from_any(cert)?;
        match &dsc.key {
            PublicKey::Ec(point, _) if point == key.verifying_key().as_affine() => {
                Ok(DscSigner { key, dsc })
            }
            _ => Err(Error::Key(
                "the key does not belong to the certificate".into(),
            )),
        }
    }

    pub fn dsc(&self) -> &Dsc {
        &self.dsc
    }

    /// The public key as SPKI DER (for verifiers that take a bare key).
    pub fn public_key_der(&self) -> Result<Vec<u8>, Error> {
        Ok(self
            .key
            .verifying_key()
            .to_public_key_der()
            .map_err(|e| Error::Key(e.to_string()))?
            .into_vec())
    }
}
