//! The diagnosis-key export reader on untrusted bytes: the zip, the `EK Export v1` header, both protobuf
//! messages and the signature check. An export that verifies reads the same without the check and keeps the
//! format's bounds; anything that reads rebuilds, signed, into a zip that reads back equal.

#![no_main]

use kiemdich_proximity::p256::ecdsa::SigningKey;
use kiemdich_proximity::{SignatureInfo, build_export, export, read_export, read_export_unverified};
use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;

static KEY: LazyLock<SigningKey> =
    LazyLock::new(|| SigningKey::from_slice(b"kiemdich fuzzing key, not secret").unwrap());

fuzz_target!(|data: &[u8]| {
    let unverified = read_export_unverified(data);
    if let Ok(verified) = read_export(data, KEY.verifying_key()) {
        assert_eq!(unverified.as_ref().ok(), Some(&verified));
    }
    if let Ok(e) = &unverified {
        assert!(e.keys.iter().all(|k| (1..=144).contains(&k.rolling_period)
            && k.transmission_risk_level <= 8));
        let info = e.signature_infos.first().cloned().unwrap_or_else(SignatureInfo::default);
        let rebuilt = build_export(e, &KEY, &info);
        assert_eq!(read_export(&rebuilt, KEY.verifying_key()).as_ref(), Ok(e));
    }
    let _ = export::parse_export_bin(data);
});
