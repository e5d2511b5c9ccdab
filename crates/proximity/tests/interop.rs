//! Exports written by another zip implementation: the same signed `export.bin` and `export.sig` re-zipped by
//! Python's `zipfile` with deflate, once to a file and once streamed (sizes in a data descriptor after each
//! entry, flag bit 3, as Go's `archive/zip` writes them, which the reference GAEN server uses). Made with
//! `zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED).writestr(...)` and, for the streamed one, the same into an
//! unseekable stream. The signer is the fuzzing fixture's key, `b"kiemdich fuzzing key, not secret"`.

use kiemdich_proximity::p256::ecdsa::SigningKey;
use kiemdich_proximity::{EnIntervalNumber, ExportError, read_export};

fn key() -> SigningKey {
    SigningKey::from_slice(b"kiemdich fuzzing key, not secret").expect("a valid scalar")
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name),
    )
    .expect("fixture present")
}

#[test]
fn deflated_and_streamed_zips_from_another_writer_read_and_verify() {
    for name in ["python-deflated-export.zip", "python-streamed-export.zip"] {
        let zip = fixture(name);
        assert!(zip[8] == 8, "{name} is deflated");
        let export = read_export(&zip, key().verifying_key()).expect(name);
        assert_eq!(export.region, "452");
        assert_eq!((export.batch_num, export.batch_size), (1, 1));
        assert_eq!(export.keys.len(), 3, "{name}");
        assert_eq!(export.keys[1].key, [37; 16]);
        assert_eq!(export.keys[1].rolling_start, EnIntervalNumber(2_991_744));
        assert_eq!(export.keys[1].rolling_period, 143);
        assert_eq!(export.keys[1].transmission_risk_level, 1);
        assert_eq!(
            export.signature_infos[0].signature_algorithm,
            "1.2.840.10045.4.3.2"
        );
    }
}

#[test]
fn a_damaged_deflate_stream_is_refused() {
    let mut zip = fixture("python-deflated-export.zip");
    // Inside export.bin's compressed data (after the 30-byte local header and the 10-byte name).
    zip[45] ^= 0xff;
    let err = read_export(&zip, key().verifying_key()).expect_err("damaged");
    assert!(matches!(err, ExportError::Zip(_)), "{err:?}");
}

/// Signed by Python's `cryptography` (OpenSSL), which like Go's `crypto/ecdsa` does not normalise S: this
/// signature has S above n/2 (chosen so). Half of real-world exports look like this; they must verify.
#[test]
fn a_high_s_signature_from_another_signer_verifies() {
    let zip = fixture("python-signed-high-s-export.zip");
    let export = read_export(&zip, key().verifying_key()).expect("high-S verifies");
    assert_eq!(export.keys.len(), 3);
    let other = SigningKey::from_slice(&[5; 32]).expect("a valid scalar");
    assert_eq!(
        read_export(&zip, other.verifying_key()),
        Err(ExportError::BadSignature)
    );
}
