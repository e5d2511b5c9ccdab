//! The KD1 chain end to end: encode, verify offline, and every way a token can be refused.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use kiemdich_domain::{HealthStatus, VaccinationSummary};
use kiemdich_pass::{
    Holder, PassClaims, PassId, Reason, SigningKey, TrustList, TrustedKey, Verifier, encode,
};
use proptest::prelude::*;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap()
}

fn claims(issued: DateTime<Utc>) -> PassClaims {
    PassClaims {
        issuer: "VN-94".into(),
        pass_id: PassId([7; 16]),
        issued_at: issued,
        expires_at: issued + Duration::hours(72),
        holder: Holder {
            name: "Nguyễn Thị Phương Thảo".into(),
            birth_year: 1990,
            masked_id: "094******456".into(),
            status: HealthStatus::Green,
            commune: "31498".into(),
            vaccination: VaccinationSummary {
                doses: 2,
                last_dose: NaiveDate::from_ymd_opt(2021, 9, 12),
            },
        },
    }
}

/// The same claims without vaccination data, as every pass was before passes carried it.
fn claims_without_vaccination(issued: DateTime<Utc>) -> PassClaims {
    let mut c = claims(issued);
    c.holder.vaccination = VaccinationSummary::NONE;
    c
}

fn trust(keys: &[&SigningKey]) -> TrustList {
    TrustList {
        issuer: "VN-94".into(),
        generated_at: now(),
        keys: keys
            .iter()
            .map(|k| TrustedKey::ed25519(&k.public_key(), now() - Duration::days(30), None))
            .collect(),
        revoked: vec![],
    }
}

fn reason(v: &Verifier, token: &str, at: DateTime<Utc>) -> Reason {
    v.verify(token, at).unwrap_err().reason
}

#[test]
fn a_fresh_pass_verifies_offline_and_fits_a_small_qr() {
    let key = SigningKey::generate();
    let token = encode(&claims(now()), &key);
    assert!(token.starts_with("KD1:"));
    assert!(token.len() < 300, "{} characters", token.len());
    assert!(
        token
            .bytes()
            .all(|b| b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:".contains(&b)),
        "QR alphanumeric"
    );
    let v = Verifier::new(&trust(&[&key])).unwrap();
    assert_eq!(
        v.verify(&token, now() + Duration::hours(1)).unwrap(),
        claims(now())
    );
}

/// The vaccination state (2 doses, the last on 12/09/2021) costs 6 bytes of CBOR, 9 Base45 characters.
#[test]
fn the_vaccination_state_round_trips_in_a_few_bytes() {
    let key = SigningKey::generate();
    let with = encode(&claims(now()), &key);
    let without = encode(&claims_without_vaccination(now()), &key);
    let bytes = |t: &str| kiemdich_pass::base45::decode(&t[4..]).unwrap().len();
    assert_eq!(
        bytes(&with) - bytes(&without),
        6,
        "key 6 + count, key 7 + uint16 days"
    );
    assert_eq!(with.len() - without.len(), 9);
    let v = Verifier::new(&trust(&[&key])).unwrap();
    let read = v.verify(&with, now()).unwrap();
    assert_eq!(read.holder.vaccination, claims(now()).holder.vaccination);
    assert_eq!(
        v.verify(&without, now()).unwrap().holder.vaccination,
        VaccinationSummary::NONE
    );
    // Many doses and a date far ahead still fit the small QR.
    let mut most = claims(now());
    most.holder.vaccination = VaccinationSummary {
        doses: u8::MAX,
        last_dose: NaiveDate::from_ymd_opt(2099, 12, 31),
    };
    let token = encode(&most, &key);
    assert!(token.len() < 300, "{} characters", token.len());
    assert_eq!(v.verify(&token, now()).unwrap(), most);
}

/// A pass issued before passes carried vaccination (this exact token was made by the encoder of that time with
/// the fuzz fixture's key) still verifies, and reads as "no vaccination data".
#[test]
fn a_pass_issued_before_vaccination_data_stays_valid() {
    const OLD: &str = "KD1:RRQT 9P60GO0ZJ14UKURRIGH8CK2WB.70:+ACW5-P6DF3SE1LFUDF36$0E7EC5A:*0:*0:*0:*0:*0:*0:*05-0100000V%K/PEP3DGIFZVNM-DR99WWNE E$T93/D.B00/0LJ0F46YQ6*E5*E50F5%47YM0VU0AL6UW6AB7$78BXHLDNT%FGLJAGKZLK6U0$4JWZEV%QISQ7D3-3J+-44PUS:17 VC5VSLL7NPHAE+S09W4NWT6NN409++5X 9DY1T/K*70B0";
    let key = SigningKey::from_secret_bytes(b"kiemdich fuzzing key, not secret");
    let claims = Verifier::new(&trust(&[&key]))
        .unwrap()
        .verify(OLD, now())
        .unwrap();
    assert_eq!(claims.holder.name, "Nguyễn Hữu Long");
    assert_eq!(claims.holder.vaccination, VaccinationSummary::NONE);
    assert_eq!(
        encode(&claims, &key),
        OLD,
        "a pass without doses is encoded exactly as before"
    );
}

/// Only what an issuer writes reads back: a count with its date, at least one dose.
#[test]
fn a_half_written_vaccination_state_is_refused() {
    use ciborium::Value;
    use coset::{CborSerializable, CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
    let key = SigningKey::generate();
    let v = Verifier::new(&trust(&[&key])).unwrap();
    let sign = |extra: Vec<(i64, i64)>| {
        let mut holder = vec![
            (Value::from(1), Value::from("A")),
            (Value::from(2), Value::from(1990)),
            (Value::from(3), Value::from("094******456")),
            (Value::from(4), Value::from(0)),
            (Value::from(5), Value::from("31498")),
        ];
        holder.extend(
            extra
                .into_iter()
                .map(|(k, v)| (Value::from(k), Value::from(v))),
        );
        let payload = coset::cwt::ClaimsSetBuilder::new()
            .issuer("VN-94".into())
            .issued_at(coset::cwt::Timestamp::WholeSeconds(now().timestamp()))
            .expiration_time(coset::cwt::Timestamp::WholeSeconds(
                now().timestamp() + 3600,
            ))
            .cwt_id(vec![7; 16])
            .private_claim(-65537, Value::Map(holder))
            .build()
            .to_vec()
            .unwrap();
        let protected = HeaderBuilder::new()
            .algorithm(iana::Algorithm::EdDSA)
            .key_id(key.kid().0.to_vec())
            .build();
        let sign1 = CoseSign1Builder::new()
            .protected(protected)
            .payload(payload)
            .create_signature(b"", |d| {
                use ed25519_dalek::Signer;
                ed25519_dalek::SigningKey::from_bytes(&key.to_secret_bytes())
                    .sign(d)
                    .to_bytes()
                    .to_vec()
            })
            .build();
        format!(
            "KD1:{}",
            kiemdich_pass::base45::encode(&sign1.to_tagged_vec().unwrap())
        )
    };
    assert!(v.verify(&sign(vec![(6, 2), (7, 18_882)]), now()).is_ok());
    for bad in [
        vec![(6, 2)],
        vec![(7, 18_882)],
        vec![(6, 0), (7, 18_882)],
        vec![(6, 256), (7, 18_882)],
        vec![(6, 2), (7, -1)],
    ] {
        assert_eq!(
            v.verify(&sign(bad.clone()), now()).unwrap_err().reason,
            Reason::BadClaims,
            "{bad:?}"
        );
    }
}

#[test]
fn time_bounds_are_enforced() {
    let key = SigningKey::generate();
    let v = Verifier::new(&trust(&[&key])).unwrap();
    let token = encode(&claims(now()), &key);
    assert_eq!(
        reason(&v, &token, now() + Duration::hours(72)),
        Reason::Expired
    );
    assert_eq!(
        reason(&v, &token, now() - Duration::hours(1)),
        Reason::NotYetValid
    );
    assert!(
        v.verify(&token, now() - Duration::minutes(4)).is_ok(),
        "small clock skew is tolerated"
    );
}

#[test]
fn keys_outside_the_trust_list_or_retired_are_refused() {
    let (key, other) = (SigningKey::generate(), SigningKey::generate());
    let token = encode(&claims(now()), &other);
    assert_eq!(
        reason(&Verifier::new(&trust(&[&key])).unwrap(), &token, now()),
        Reason::UnknownKey
    );
    let mut list = trust(&[&other]);
    list.keys[0].not_after = Some(now() - Duration::minutes(1));
    assert_eq!(
        reason(&Verifier::new(&list).unwrap(), &token, now()),
        Reason::KeyRetired
    );
}

#[test]
fn revoked_passes_in_a_cached_list_are_refused() {
    let key = SigningKey::generate();
    let mut list = trust(&[&key]);
    list.revoked = vec![PassId([7; 16]).to_string()];
    let token = encode(&claims(now()), &key);
    assert_eq!(
        reason(&Verifier::new(&list).unwrap(), &token, now()),
        Reason::Revoked
    );
}

#[test]
fn a_pass_id_is_written_as_32_lower_case_hex_digits_and_read_back() {
    let id = PassId([
        0, 1, 0xab, 0xff, 9, 10, 11, 12, 13, 14, 15, 16, 0x7f, 0x80, 0xc0, 0xfe,
    ]);
    let text = id.to_string();
    assert_eq!(text, "0001abff090a0b0c0d0e0f107f80c0fe");
    assert_eq!(PassId::parse(&text), Some(id));
    assert_eq!(PassId::parse(&text.to_uppercase()), Some(id));
    // `+0` had read as a digit pair; a pass id has one text only.
    let signed = format!("+0{}", &text[2..]);
    for bad in [
        "",
        "0001abff",
        &format!("{text}00"),
        &text.replace('a', "g"),
        &signed,
    ] {
        assert_eq!(PassId::parse(bad), None, "{bad}");
    }
}

#[test]
fn malformed_tokens_get_their_own_reason() {
    let key = SigningKey::generate();
    let v = Verifier::new(&trust(&[&key])).unwrap();
    let token = encode(&claims(now()), &key);
    let body = token.strip_prefix("KD1:").unwrap();
    let bytes = kiemdich_pass::base45::decode(body).unwrap();
    let untagged = kiemdich_pass::base45::encode(&bytes[1..]);
    let cases = [
        ("x".repeat(2000), Reason::TooLong),
        (format!("KD2:{body}"), Reason::UnknownPrefix),
        (format!("HC1:{body}"), Reason::UnknownPrefix),
        ("KD1:abc".to_string(), Reason::BadBase45),
        (
            format!("KD1:{}", kiemdich_pass::base45::encode(&[0xff, 0x00])),
            Reason::BadCbor,
        ),
        (format!("KD1:{untagged}"), Reason::BadCose),
        (
            format!("KD1:{}", kiemdich_pass::base45::encode(&[0xd2, 0x01])),
            Reason::BadCose,
        ),
        // A body of length 3k+1 is never Base45; truncated bytes re-encoded are Base45 but not whole CBOR.
        (
            token[..4 + (body.len() - 2) / 3 * 3 + 1].to_string(),
            Reason::BadBase45,
        ),
        (
            format!(
                "KD1:{}",
                kiemdich_pass::base45::encode(&bytes[..bytes.len() - 2])
            ),
            Reason::BadCbor,
        ),
    ];
    for (t, want) in cases {
        assert_eq!(reason(&v, &t, now()), want, "{t:.40}");
    }
}

#[test]
fn wrong_algorithm_is_refused_before_the_key_is_used() {
    // Re-sign the same payload under ES256's algorithm id with the Ed25519 key: the kid is known but alg is not.
    use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
    let key = SigningKey::generate();
    let token = encode(&claims(now()), &key);
    let orig =
        coset::CoseSign1::from_tagged_slice(&kiemdich_pass::base45::decode(&token[4..]).unwrap())
            .unwrap();
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::ES256)
        .key_id(key.kid().0.to_vec())
        .build();
    let forged = CoseSign1Builder::new()
        .protected(protected)
        .payload(orig.payload.unwrap())
        .signature(orig.signature)
        .build();
    let forged = format!(
        "KD1:{}",
        kiemdich_pass::base45::encode(&forged.to_tagged_vec().unwrap())
    );
    let v = Verifier::new(&trust(&[&key])).unwrap();
    assert_eq!(reason(&v, &forged, now()), Reason::WrongAlgorithm);
}

/// The unprotected header is outside the signature: KD1 requires it empty, so altering it is refused too.
#[test]
fn the_unsigned_header_cannot_be_altered() {
    let key = SigningKey::generate();
    let v = Verifier::new(&trust(&[&key])).unwrap();
    let token = encode(&claims(now()), &key);
    let bytes = kiemdich_pass::base45::decode(&token[4..]).unwrap();
    // Tag, array head, protected bstr head and its 13 bytes come first; then the empty map 0xa0.
    let at = 3 + usize::from(bytes[2] & 0x1f);
    assert_eq!(bytes[at], 0xa0);
    for replacement in [vec![0xe0], vec![0x00], vec![0xa1, 0x04, 0x40]] {
        let mut altered = bytes[..at].to_vec();
        altered.extend(&replacement);
        altered.extend(&bytes[at + 1..]);
        let t = format!("KD1:{}", kiemdich_pass::base45::encode(&altered));
        assert_eq!(reason(&v, &t, now()), Reason::BadCose, "{replacement:02x?}");
    }
}

/// Every single-byte change of a pass, at every position and to every other value, is refused.
#[test]
fn every_single_byte_alteration_is_refused() {
    let key = SigningKey::generate();
    let v = Verifier::new(&trust(&[&key])).unwrap();
    let token = encode(&claims(now()), &key);
    let bytes = kiemdich_pass::base45::decode(&token[4..]).unwrap();
    for pos in 0..bytes.len() {
        for flip in 1..=255u8 {
            let mut altered = bytes.clone();
            altered[pos] ^= flip;
            let t = format!("KD1:{}", kiemdich_pass::base45::encode(&altered));
            assert!(
                v.verify(&t, now()).is_err(),
                "byte {pos} ^ {flip:#04x} was accepted"
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Changing any single byte of the signed structure never yields a valid pass.
    #[test]
    fn any_altered_byte_is_refused(pos in 0usize..200, flip in 1u8..=255) {
        let key = SigningKey::generate();
        let v = Verifier::new(&trust(&[&key])).unwrap();
        let token = encode(&claims(now()), &key);
        let mut bytes = kiemdich_pass::base45::decode(&token[4..]).unwrap();
        let pos = pos % bytes.len();
        bytes[pos] ^= flip;
        let altered = format!("KD1:{}", kiemdich_pass::base45::encode(&bytes));
        prop_assert!(v.verify(&altered, now()).is_err());
    }

    #[test]
    fn arbitrary_input_never_panics(s in "\\PC{0,400}") {
        let key = SigningKey::generate();
        let v = Verifier::new(&trust(&[&key])).unwrap();
        let _ = v.verify(&s, now());
        let _ = v.verify(&format!("KD1:{s}"), now());
    }
}

/// A token held on record is checked without its signature and gets exactly the answers `verify` gives:
/// valid, expired, not yet valid, key retired, key stopped signing, unknown key.
#[test]
fn a_held_token_gets_every_answer_of_a_full_verify_but_the_signature_check() {
    let key = SigningKey::generate();
    let token = encode(&claims(now()), &key);
    let mut retired = trust(&[&key]);
    retired.keys[0].not_after = Some(now() - Duration::minutes(1));
    let mut stopped = trust(&[&key]);
    stopped.keys[0].signed_until = Some(now() - Duration::hours(1));
    let lists = [
        trust(&[&key]),
        retired,
        stopped,
        trust(&[&SigningKey::generate()]),
    ];
    for list in &lists {
        let v = Verifier::new(list).unwrap();
        for at in [
            now(),
            now() - Duration::hours(1),
            now() + Duration::hours(73),
        ] {
            assert_eq!(
                v.verify_held(&token, at).map_err(|r| r.reason),
                v.verify(&token, at).map_err(|r| r.reason),
                "at {at}"
            );
        }
    }
    // The one difference, and why only held tokens may use it: a bad signature is not looked at.
    let body = kiemdich_pass::base45::decode(token.strip_prefix("KD1:").unwrap()).unwrap();
    let mut forged = body.clone();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let forged = format!("KD1:{}", kiemdich_pass::base45::encode(&forged));
    let v = Verifier::new(&lists[0]).unwrap();
    assert_eq!(reason(&v, &forged, now()), Reason::BadSignature);
    assert!(v.verify_held(&forged, now()).is_ok());
}
