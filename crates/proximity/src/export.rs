//! The diagnosis-key export every GAEN client reads: a zip of `export.bin` (the 16-byte header
//! `EK Export v1` padded with spaces, then a protobuf `TemporaryExposureKeyExport`) and `export.sig` (a protobuf
//! `TEKSignatureList` holding an ECDSA P-256 SHA-256 signature of `export.bin`, DER-encoded).
//!
//! Field numbers follow the reference server's `export.proto`:
//! `TemporaryExposureKeyExport {1 start_timestamp fixed64, 2 end_timestamp fixed64, 3 region string,
//! 4 batch_num int32, 5 batch_size int32, 6 signature_infos SignatureInfo*, 7 keys TemporaryExposureKey*}`;
//! `SignatureInfo {3 verification_key_version, 4 verification_key_id, 5 signature_algorithm}` (strings; 1 and 2
//! are the retired app-store identifiers); `TemporaryExposureKey {1 key_data bytes, 2 transmission_risk_level,
//! 3 rolling_start_interval_number, 4 rolling_period (default 144)}` (int32s; 5 report_type and
//! 6 days_since_onset_of_symptoms are read past); `TEKSignatureList {1 signatures TEKSignature*}`;
//! `TEKSignature {1 signature_info, 2 batch_num, 3 batch_size, 4 signature bytes}`.

use crate::crypto::{EnIntervalNumber, KEY_LEN, MAX_ROLLING_PERIOD, TemporaryExposureKey};
use crate::protobuf::{ProtoError, Reader, Writer};
use crate::upload::KeyProblem;
use crate::zip::{self, ZipError};
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, Signature, SigningKey, VerifyingKey};

/// The first 16 bytes of every `export.bin`.
pub const EXPORT_HEADER: &[u8; 16] = b"EK Export v1    ";
/// ECDSA P-256 with SHA-256, the algorithm GAEN clients accept.
pub const ECDSA_P256_SHA256: &str = "1.2.840.10045.4.3.2";
/// The highest transmission risk level the export format defines.
const MAX_RISK_LEVEL: i32 = 8;

/// Who signed an export and how, as clients look it up.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignatureInfo {
    pub verification_key_version: String,
    pub verification_key_id: String,
    pub signature_algorithm: String,
}

/// One batch of diagnosis keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyExport {
    /// Unix seconds: the keys arrived at the server in [start, end).
    pub start_timestamp: u64,
    pub end_timestamp: u64,
    pub region: String,
    pub batch_num: i32,
    pub batch_size: i32,
    pub signature_infos: Vec<SignatureInfo>,
    pub keys: Vec<TemporaryExposureKey>,
}

/// Why an export could not be read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    #[error("zip: {0}")]
    Zip(#[from] ZipError),
    #[error("the archive has no {0}")]
    Missing(&'static str),
    #[error("export.bin does not start with the EK Export v1 header")]
    Header,
    #[error("{file}: {error}")]
    Protobuf {
        file: &'static str,
        error: ProtoError,
    },
    #[error("keys[{index}]: {problem}")]
    Key { index: usize, problem: KeyProblem },
    #[error("export.sig holds no signature")]
    NoSignature,
    #[error("no signature in export.sig verifies export.bin with the given key")]
    BadSignature,
    #[error("public key: {0}")]
    PublicKey(String),
}

/// The bytes of `export.bin`.
pub fn export_bin(export: &KeyExport) -> Vec<u8> {
    let mut w = Writer::default();
    w.buf.extend_from_slice(EXPORT_HEADER);
    w.fixed64(1, export.start_timestamp);
    w.fixed64(2, export.end_timestamp);
    w.string(3, &export.region);
    w.int32(4, export.batch_num);
    w.int32(5, export.batch_size);
    for info in &export.signature_infos {
        w.message(6, |m| write_info(m, info));
    }
    for k in &export.keys {
        w.message(7, |m| {
            m.bytes(1, &k.key);
            m.int32(2, i32::from(k.transmission_risk_level));
            m.int32(3, i32::try_from(k.rolling_start.0).unwrap_or(i32::MAX));
            m.int32(4, i32::try_from(k.rolling_period).unwrap_or(i32::MAX));
        });
    }
    w.buf
}

fn write_info(m: &mut Writer, info: &SignatureInfo) {
    m.string(3, &info.verification_key_version);
    m.string(4, &info.verification_key_id);
    m.string(5, &info.signature_algorithm);
}

/// The zip clients download: `export.bin` and its `export.sig`, signed with `key` and described by `info`.
/// Signing is deterministic (RFC 6979), so the same batch gives the same bytes.
pub fn build_export(export: &KeyExport, key: &SigningKey, info: &SignatureInfo) -> Vec<u8> {
    let bin = export_bin(export);
    let signature: Signature = key.sign(&bin);
    let der: DerSignature = signature.to_der();
    let mut sig = Writer::default();
    sig.message(1, |s| {
        s.message(1, |m| write_info(m, info));
        s.int32(2, export.batch_num);
        s.int32(3, export.batch_size);
        s.bytes(4, der.as_bytes());
    });
    zip::write(&[("export.bin", &bin), ("export.sig", &sig.buf)])
}

/// Reads an export and checks that one of its signatures verifies `export.bin` with `public_key`.
pub fn read_export(zip: &[u8], public_key: &VerifyingKey) -> Result<KeyExport, ExportError> {
    let (bin, sig) = entries(zip)?;
    let signatures = read_signatures(&sig)?;
    if signatures.is_empty() {
        return Err(ExportError::NoSignature);
    }
    let verified = signatures
        .iter()
        .any(|der| Signature::from_der(der).is_ok_and(|s| public_key.verify(&bin, &s).is_ok()));
    if !verified {
        return Err(ExportError::BadSignature);
    }
    parse_export_bin(&bin)
}

/// Reads an export without checking its signature (for inspecting a file whose key is not at hand; a client
/// must never match against keys read this way).
pub fn read_export_unverified(zip: &[u8]) -> Result<KeyExport, ExportError> {
    let (bin, sig) = entries(zip)?;
    read_signatures(&sig)?;
    parse_export_bin(&bin)
}

/// A public key from PEM (`-----BEGIN PUBLIC KEY-----`, SubjectPublicKeyInfo), as the server publishes it.
pub fn public_key_from_pem(pem: &str) -> Result<VerifyingKey, ExportError> {
    use p256::pkcs8::DecodePublicKey;
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| ExportError::PublicKey(e.to_string()))
}

/// The PEM of a signing key's public half.
pub fn public_key_pem(key: &SigningKey) -> Result<String, ExportError> {
    use p256::pkcs8::{EncodePublicKey, LineEnding};
    key.verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| ExportError::PublicKey(e.to_string()))
}

fn entries(zip: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ExportError> {
    let bin = zip::read_entry(zip, "export.bin")?.ok_or(ExportError::Missing("export.bin"))?;
    let sig = zip::read_entry(zip, "export.sig")?.ok_or(ExportError::Missing("export.sig"))?;
    Ok((bin, sig))
}

fn proto(file: &'static str) -> impl Fn(ProtoError) -> ExportError {
    move |error| ExportError::Protobuf { file, error }
}

/// The DER signatures in `export.sig`.
fn read_signatures(sig: &[u8]) -> Result<Vec<Vec<u8>>, ExportError> {
    let e = proto("export.sig");
    let mut out = Vec::new();
    let mut list = Reader::new(sig);
    while let Some((field, value)) = list.next_field().map_err(&e)? {
        if field != 1 {
            continue;
        }
        let mut s = Reader::new(value.bytes(field).map_err(&e)?);
        let mut der = None;
        while let Some((f, v)) = s.next_field().map_err(&e)? {
            match f {
                1 => {
                    read_info(v.bytes(f).map_err(&e)?).map_err(&e)?;
                }
                2 | 3 => {
                    v.int32(f).map_err(&e)?;
                }
                4 => der = Some(v.bytes(f).map_err(&e)?.to_vec()),
                _ => {}
            }
        }
        out.extend(der);
    }
    Ok(out)
}

fn read_info(bytes: &[u8]) -> Result<SignatureInfo, ProtoError> {
    let mut info = SignatureInfo::default();
    let mut r = Reader::new(bytes);
    while let Some((f, v)) = r.next_field()? {
        match f {
            3 => info.verification_key_version = v.string(f)?,
            4 => info.verification_key_id = v.string(f)?,
            5 => info.signature_algorithm = v.string(f)?,
            1 | 2 => {
                v.string(f)?;
            }
            _ => {}
        }
    }
    Ok(info)
}

/// Parses `export.bin`: its header, then the export message; every key is checked (16 bytes, a period of
/// 1..=144, a non-negative start, a risk level of 0..=8).
pub fn parse_export_bin(bin: &[u8]) -> Result<KeyExport, ExportError> {
    let body = bin
        .strip_prefix(EXPORT_HEADER.as_slice())
        .ok_or(ExportError::Header)?;
    let e = proto("export.bin");
    let mut export = KeyExport {
        start_timestamp: 0,
        end_timestamp: 0,
        region: String::new(),
        batch_num: 0,
        batch_size: 0,
        signature_infos: Vec::new(),
        keys: Vec::new(),
    };
    let mut r = Reader::new(body);
    while let Some((f, v)) = r.next_field().map_err(&e)? {
        match f {
            1 => export.start_timestamp = v.fixed64(f).map_err(&e)?,
            2 => export.end_timestamp = v.fixed64(f).map_err(&e)?,
            3 => export.region = v.string(f).map_err(&e)?,
            4 => export.batch_num = v.int32(f).map_err(&e)?,
            5 => export.batch_size = v.int32(f).map_err(&e)?,
            6 => export
                .signature_infos
                .push(read_info(v.bytes(f).map_err(&e)?).map_err(&e)?),
            7 => {
                let index = export.keys.len();
                let key = read_key(v.bytes(f).map_err(&e)?, index)?;
                export.keys.push(key);
            }
            _ => {}
        }
    }
    Ok(export)
}

fn read_key(bytes: &[u8], index: usize) -> Result<TemporaryExposureKey, ExportError> {
    let e = proto("export.bin");
    let bad = |problem| ExportError::Key { index, problem };
    let mut key = None;
    let mut risk = 0;
    let mut start = None;
    let mut period = i32::try_from(MAX_ROLLING_PERIOD).unwrap_or(i32::MAX);
    let mut r = Reader::new(bytes);
    while let Some((f, v)) = r.next_field().map_err(&e)? {
        match f {
            1 => key = Some(v.bytes(f).map_err(&e)?),
            2 => risk = v.int32(f).map_err(&e)?,
            3 => start = Some(v.int32(f).map_err(&e)?),
            4 => period = v.int32(f).map_err(&e)?,
            _ => {}
        }
    }
    let key = key.unwrap_or_default();
    let key: [u8; KEY_LEN] = key
        .try_into()
        .map_err(|_| bad(KeyProblem::WrongLength(key.len())))?;
    let rolling_start = start
        .and_then(|s| u32::try_from(s).ok())
        .ok_or_else(|| bad(KeyProblem::RollingStart))?;
    let rolling_period = u32::try_from(period)
        .ok()
        .filter(|p| (1..=MAX_ROLLING_PERIOD).contains(p))
        .ok_or_else(|| bad(KeyProblem::RollingPeriod))?;
    let transmission_risk_level = u8::try_from(risk)
        .ok()
        .filter(|r| i32::from(*r) <= MAX_RISK_LEVEL)
        .ok_or_else(|| bad(KeyProblem::TransmissionRiskLevel))?;
    Ok(TemporaryExposureKey {
        key,
        rolling_start: EnIntervalNumber(rolling_start),
        rolling_period,
        transmission_risk_level,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signing_key(seed: u8) -> SigningKey {
        SigningKey::from_slice(&[seed; 32]).unwrap()
    }

    fn info() -> SignatureInfo {
        SignatureInfo {
            verification_key_version: "v1".into(),
            verification_key_id: "452".into(),
            signature_algorithm: ECDSA_P256_SHA256.into(),
        }
    }

    fn batch(n: u8) -> KeyExport {
        KeyExport {
            start_timestamp: 1_763_100_000,
            end_timestamp: 1_763_103_600,
            region: "452".into(),
            batch_num: 1,
            batch_size: 1,
            signature_infos: vec![info()],
            keys: (0..n)
                .map(|i| TemporaryExposureKey {
                    key: [i; 16],
                    rolling_start: EnIntervalNumber(2_938_000 + 144 * u32::from(i)),
                    rolling_period: 144 - u32::from(i),
                    transmission_risk_level: i % 9,
                })
                .collect(),
        }
    }

    #[test]
    fn an_export_round_trips_and_verifies() {
        let key = signing_key(7);
        let zip = build_export(&batch(20), &key, &info());
        let read = read_export(&zip, key.verifying_key()).unwrap();
        assert_eq!(read, batch(20));
        assert_eq!(
            build_export(&batch(20), &key, &info()),
            zip,
            "deterministic"
        );
        let pem = public_key_pem(&key).unwrap();
        assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"));
        assert_eq!(&public_key_from_pem(&pem).unwrap(), key.verifying_key());
    }

    #[test]
    fn export_bin_starts_with_the_header_and_known_bytes() {
        let bin = export_bin(&batch(1));
        assert_eq!(&bin[..16], b"EK Export v1    ");
        // fixed64 field 1 (tag 0x09), then the start timestamp little-endian.
        assert_eq!(bin[16], 0x09);
        assert_eq!(&bin[17..25], &1_763_100_000u64.to_le_bytes());
    }

    #[test]
    fn another_key_or_a_changed_byte_fails_verification() {
        let key = signing_key(7);
        let zip = build_export(&batch(3), &key, &info());
        assert_eq!(
            read_export(&zip, signing_key(8).verifying_key()),
            Err(ExportError::BadSignature)
        );
        // Change a key byte inside export.bin and fix up the zip's CRC so only the signature can tell.
        let mut bin = export_bin(&batch(3));
        let at = bin.windows(16).position(|w| w == [2u8; 16]).unwrap();
        bin[at] ^= 1;
        let sig = zip::read_entry(&zip, "export.sig").unwrap().unwrap();
        let forged = zip::write(&[("export.bin", &bin), ("export.sig", &sig)]);
        assert_eq!(
            read_export(&forged, key.verifying_key()),
            Err(ExportError::BadSignature)
        );
        assert_eq!(read_export_unverified(&forged).map(|e| e.keys.len()), Ok(3));
    }

    #[test]
    fn malformed_exports_are_typed_errors() {
        let key = signing_key(7);
        let vk = key.verifying_key();
        let only_bin = zip::write(&[("export.bin", &export_bin(&batch(1)))]);
        assert_eq!(
            read_export(&only_bin, vk),
            Err(ExportError::Missing("export.sig"))
        );
        let no_header = zip::write(&[("export.bin", b"EK Export v2    "), ("export.sig", b"")]);
        assert_eq!(read_export_unverified(&no_header), Err(ExportError::Header));
        assert_eq!(read_export(&no_header, vk), Err(ExportError::NoSignature));
        assert!(matches!(read_export(b"PK", vk), Err(ExportError::Zip(_))));

        let mut short_key = Writer::default();
        short_key.buf.extend_from_slice(EXPORT_HEADER);
        short_key.message(7, |m| {
            m.bytes(1, &[1; 15]);
            m.int32(3, 5);
        });
        assert_eq!(
            parse_export_bin(&short_key.buf),
            Err(ExportError::Key {
                index: 0,
                problem: KeyProblem::WrongLength(15)
            })
        );
        let mut period = Writer::default();
        period.buf.extend_from_slice(EXPORT_HEADER);
        period.message(7, |m| {
            m.bytes(1, &[1; 16]);
            m.int32(3, 5);
            m.int32(4, 145);
        });
        assert!(matches!(
            parse_export_bin(&period.buf),
            Err(ExportError::Key { index: 0, .. })
        ));
        let mut header_only = EXPORT_HEADER.to_vec();
        header_only.push(0x3a);
        assert!(matches!(
            parse_export_bin(&header_only),
            Err(ExportError::Protobuf {
                file: "export.bin",
                ..
            })
        ));
        assert!(public_key_from_pem("not a key").is_err());
    }

    #[test]
    fn a_key_without_key_data_or_start_is_refused() {
        let mut w = Writer::default();
        w.buf.extend_from_slice(EXPORT_HEADER);
        w.message(7, |m| m.bytes(1, &[1; 16]));
        w.message(7, |m| m.int32(3, 5));
        assert_eq!(
            parse_export_bin(&w.buf),
            Err(ExportError::Key {
                index: 0,
                problem: KeyProblem::RollingStart
            })
        );
        let mut w = Writer::default();
        w.buf.extend_from_slice(EXPORT_HEADER);
        w.message(7, |m| m.int32(3, 5));
        assert_eq!(
            parse_export_bin(&w.buf),
            Err(ExportError::Key {
                index: 0,
                problem: KeyProblem::WrongLength(0)
            })
        );
    }

    #[test]
    fn a_missing_rolling_period_means_144() {
        let mut w = Writer::default();
        w.buf.extend_from_slice(EXPORT_HEADER);
        w.message(7, |m| {
            m.bytes(1, &[1; 16]);
            m.int32(3, 2_938_000);
        });
        let e = parse_export_bin(&w.buf).unwrap();
        assert_eq!(e.keys[0].rolling_period, 144);
    }
}
