#![expect(clippy::unwrap_used, reason = "tests")]
//! Issuance round trips through this verifier and the independent `dgc` crate; bad input is refused at the right
//! check.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use kiemdich_dcc::{
    CertType, Csca, Dsc, DscSigner, Holder, Reason, TrustList, Vaccination, dsc_request, issue,
    verify,
};

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-20T08:00:00Z")
        .unwrap()
        .to_utc()
}

fn signer(usages: &[CertType], days: u32) -> DscSigner {
    let csca = Csca::generate("VN", "CSCA test VN", now() - Duration::days(1), 10).unwrap();
    let req = dsc_request("VN", "DSC test VN").unwrap();
    let der = csca
        .sign_request(
            req.request_pem.as_bytes(),
            usages,
            now() - Duration::hours(1),
            days,
        )
        .unwrap();
    DscSigner::load(&req.key_pem, &der).unwrap()
}

fn holder() -> Holder {
    Holder {
        family_name: "Nguyễn".into(),
        given_name: "Thị Đào".into(),
        date_of_birth: "1985-04-24".into(),
    }
}

fn dose() -> Vaccination {
    Vaccination {
        tg: "840539006".into(),
        vp: "J07BX03".into(),
        mp: "EU/1/21/1529".into(),
        ma: "ORG-100001699".into(),
        dose_number: 2,
        series_doses: 2,
        date: NaiveDate::from_ymd_opt(2021, 9, 1).unwrap(),
        country: "VN".into(),
        issuer: "Bộ Y tế".into(),
    }
}

fn trust(s: &DscSigner) -> TrustList {
    let mut t = TrustList::new();
    t.add(Dsc::from_der(s.dsc().der()).unwrap());
    t
}

#[test]
fn issued_certificate_verifies_here_and_with_dgc() {
    let s = signer(&[], 730);
    assert_eq!(s.dsc().usages(), &[CertType::Vaccination]);
    let issued = issue(&s, &holder(), &dose(), "VN", None, now()).unwrap();
    assert!(issued.hc1.starts_with("HC1:"));
    assert!(issued.uvci.starts_with("URN:UVCI:01:VN:"));
    assert_eq!(
        issued.expires_at,
        issued.issued_at + chrono::Months::new(12)
    );

    let report = verify(&issued.hc1, &trust(&s), now());
    assert!(report.valid(), "{report:?}");
    let p = report.payload.unwrap();
    assert_eq!(p["nam"]["fnt"], "NGUYEN");
    assert_eq!(p["nam"]["gnt"], "THI<DAO");
    assert_eq!(p["v"][0]["ci"], issued.uvci.as_str());
    assert_eq!(report.issuer.as_deref(), Some("VN"));

    // The independent verifier, given only the DSC's public key under its kid.
    let mut list = dgc::TrustList::default();
    use base64::Engine;
    list.add_key_from_certificate(&base64::engine::general_purpose::STANDARD.encode(s.dsc().der()))
        .unwrap();
    let (container, validity) = dgc::validate(&issued.hc1, &list).unwrap();
    assert!(validity.is_valid(), "{validity:?}");
    assert_eq!(container.issuer, "VN");
    let bytes = s.public_key_der().unwrap();
    assert!(!bytes.is_empty());
}

#[test]
fn expiry_never_passes_the_dsc() {
    let s = signer(&[CertType::Vaccination], 100);
    let issued = issue(&s, &holder(), &dose(), "VN", None, now()).unwrap();
    assert_eq!(issued.expires_at, s.dsc().not_after());
}

#[test]
fn bad_input_is_refused_at_its_check() {
    let s = signer(&[], 730);
    let t = trust(&s);
    let good = issue(&s, &holder(), &dose(), "VN", None, now())
        .unwrap()
        .hc1;

    let r = verify(&good.replacen("HC1:", "HC2:", 1), &t, now());
    assert_eq!(
        (r.reason, r.checks.unprefix),
        (Reason::NoPrefix, Some(false))
    );

    let r = verify("HC1:abc", &t, now());
    assert_eq!(
        (r.reason, r.checks.b45decode),
        (Reason::BadBase45, Some(false))
    );

    let r = verify(
        &format!("HC1:{}", kiemdich_pass::base45::encode(b"not zlib")),
        &t,
        now(),
    );
    assert_eq!(
        (r.reason, r.checks.compression),
        (Reason::BadCompression, Some(false))
    );

    // A zlib bomb (100 KiB of zeros in a few hundred bytes) is refused; 20 KiB inflates (the output grows) and is
    // then not a COSE message.
    let zlib = |n: usize| {
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        z.write_all(&vec![0u8; n]).unwrap();
        format!(
            "HC1:{}",
            kiemdich_pass::base45::encode(&z.finish().unwrap())
        )
    };
    let r = verify(&zlib(100 * 1024), &t, now());
    assert_eq!(
        (r.reason, r.checks.compression),
        (Reason::BadCompression, Some(false))
    );
    let r = verify(&zlib(20 * 1024), &t, now());
    assert_eq!(
        (r.reason, r.checks.compression),
        (Reason::BadCose, Some(true))
    );

    let r = verify(&"HC1:".repeat(1100), &t, now());
    assert_eq!(r.reason, Reason::TooLong);

    // Another DSC's trust list: the kid is unknown.
    let other = signer(&[], 730);
    let r = verify(&good, &trust(&other), now());
    assert_eq!(
        (r.reason, r.checks.verify),
        (Reason::UnknownKid, Some(false))
    );

    // Same kid, other key: the signature fails.
    let mut forged = TrustList::new();
    forged.add_with_kid(
        s.dsc().kid().to_vec(),
        Dsc::from_der(other.dsc().der()).unwrap(),
    );
    let r = verify(&good, &forged, now());
    assert_eq!(
        (r.reason, r.checks.verify),
        (Reason::BadSignature, Some(false))
    );

    // Expired: a year and a day later; the DSC itself expired.
    let r = verify(&good, &t, now() + Duration::days(366));
    assert_eq!(
        (r.reason, r.checks.expiration),
        (Reason::Expired, Some(false))
    );
    let short = signer(&[], 10);
    let hc1 = issue(&short, &holder(), &dose(), "VN", None, now())
        .unwrap()
        .hc1;
    let r = verify(&hc1, &trust(&short), now() + Duration::days(10));
    assert_eq!(r.checks.expiration, Some(false));

    // A DSC allowed only tests may not sign a vaccination.
    let tests_only = signer(&[CertType::Test], 730);
    assert!(issue(&tests_only, &holder(), &dose(), "VN", None, now()).is_err());

    // Bad issuance input.
    let mut bad = dose();
    bad.dose_number = 0;
    assert!(issue(&s, &holder(), &bad, "VN", None, now()).is_err());
    assert!(issue(&s, &holder(), &dose(), "vn", None, now()).is_err());
}

#[test]
fn wrong_usage_and_schema_violation_are_reported() {
    // A DSC for tests signing a vaccination payload through the low-level signer: key usage fails.
    let s = signer(&[CertType::Test], 730);
    let t = trust(&s);
    let claims = |dcc: ciborium::Value| {
        let mut out = Vec::new();
        let map = ciborium::Value::Map(vec![
            (1.into(), "VN".into()),
            (6.into(), now().timestamp().into()),
            (4.into(), (now().timestamp() + 86_400).into()),
            ((-260).into(), ciborium::Value::Map(vec![(1.into(), dcc)])),
        ]);
        ciborium::into_writer(&map, &mut out).unwrap();
        out
    };
    let json: serde_json::Value = serde_json::json!({"ver":"1.3.0","nam":{"fnt":"A"},"dob":"1990-01-01",
        "v":[{"tg":"840539006","vp":"J07BX03","mp":"EU/1/21/1529","ma":"ORG-100001699","dn":1,"sd":2,
        "dt":"2021-09-01","co":"VN","is":"VN","ci":"URN:UVCI:01:VN:X"}]});
    let dcc: ciborium::Value = ciborium::Value::serialized(&json).unwrap();
    let hc1 = kiemdich_dcc::sign_claims(&s, claims(dcc)).unwrap();
    let r = verify(&hc1, &t, now());
    assert_eq!(
        (r.reason, r.checks.key_usage, r.checks.schema),
        (Reason::WrongKeyUsage, Some(false), Some(true))
    );

    let mut broken = json.clone();
    broken["v"][0]["dn"] = serde_json::json!(0);
    let hc1 = kiemdich_dcc::sign_claims(&s, claims(ciborium::Value::serialized(&broken).unwrap()))
        .unwrap();
    let r = verify(&hc1, &t, now());
    assert_eq!(
        (r.reason, r.checks.schema),
        (Reason::SchemaViolation, Some(false))
    );
}

#[test]
fn null_groups_are_absent_and_old_versions_may_pass_the_newest_schema() {
    let s = signer(&[], 730);
    let t = trust(&s);
    let sign = |json: &serde_json::Value| {
        let mut out = Vec::new();
        let map = ciborium::Value::Map(vec![
            (1.into(), "VN".into()),
            (6.into(), now().timestamp().into()),
            (4.into(), (now().timestamp() + 86_400).into()),
            (
                (-260).into(),
                ciborium::Value::Map(vec![(1.into(), ciborium::Value::serialized(json).unwrap())]),
            ),
        ]);
        ciborium::into_writer(&map, &mut out).unwrap();
        kiemdich_dcc::sign_claims(&s, out).unwrap()
    };
    let entry = serde_json::json!([{"tg":"840539006","vp":"J07BX03","mp":"EU/1/21/1529","ma":"ORG-100001699",
        "dn":1,"sd":2,"dt":"2021-09-01","co":"VN","is":"VN","ci":"URN:UVCI:01:VN:X"}]);

    // `t` and `r` written as null beside `v`: read as absent, so one vaccination entry.
    let json = serde_json::json!({"ver":"1.3.0","nam":{"fnt":"A"},"dob":"1990-01-01","v":entry,
        "t":null,"r":null});
    let r = verify(&sign(&json), &t, now());
    assert_eq!(
        (r.reason, r.kinds.clone()),
        (Reason::Valid, vec![CertType::Vaccination])
    );
    assert!(r.payload.unwrap().get("t").is_none());
    // A null required member is absent too, so still refused.
    let json = serde_json::json!({"ver":"1.3.0","nam":{"fnt":"A"},"dob":null,"v":entry});
    assert_eq!(
        verify(&sign(&json), &t, now()).reason,
        Reason::SchemaViolation
    );

    // ver 1.0.0 with a year-only date of birth: its own schema wants a full date, the newest release allows it.
    let json = serde_json::json!({"ver":"1.0.0","nam":{"fnt":"A"},"dob":"1963","v":entry});
    assert_eq!(verify(&sign(&json), &t, now()).reason, Reason::Valid);
    // A payload that neither accepts is refused with its own version's violation.
    let json = serde_json::json!({"ver":"1.0.0","nam":{"fnt":"A"},"dob":"1815-08-24","v":entry});
    let r = verify(&sign(&json), &t, now());
    assert_eq!(r.reason, Reason::SchemaViolation);
    assert!(r.detail.unwrap().starts_with("/dob"));
}

#[test]
fn a_rebuilt_trust_list_is_the_same_only_with_the_same_certificates() {
    let (a, b) = (signer(&[], 730), signer(&[], 730));
    assert!(trust(&a).same_certificates(&trust(&a)));
    assert!(!trust(&a).same_certificates(&trust(&b)));
    assert!(!trust(&a).same_certificates(&TrustList::new()));
    let mut both = trust(&a);
    both.add(Dsc::from_der(b.dsc().der()).unwrap());
    assert!(!both.same_certificates(&trust(&a)));
}
