//! What the targets share: a fixed clock, the CSV reading of the importers and, for the KD1 and venue
//! targets, one fixed key, a verifier that trusts only it and a known-good token. Everything is fixed so that a crash found once reproduces exactly.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use coset::{CoseSign1Builder, HeaderBuilder, TaggedCborSerializable, iana};
use ed25519_dalek::Signer;
use kiemdich_domain::{HealthStatus, VaccinationSummary};
use kiemdich_pass::{
    Holder, PREFIX, PassClaims, PassId, SigningKey, TrustList, TrustedKey, Verifier, base45,
};
use std::sync::LazyLock;

const SEED: [u8; 32] = *b"kiemdich fuzzing key, not secret";

/// The clock of every target.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 8, 0, 0).unwrap()
}

/// The location id in [`Fixture::venue_code`].
pub const VENUE_ID: i64 = 42;

pub struct Fixture {
    pub key: SigningKey,
    pub verifier: Verifier,
    pub claims: PassClaims,
    /// `claims` signed with `key`, valid at [`now`].
    pub token: String,
    /// The COSE_Sign1 bytes inside `token`.
    pub cose: Vec<u8>,
    /// A venue poster code for [`VENUE_ID`] signed with `key`.
    pub venue_code: String,
}

pub static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let key = SigningKey::from_secret_bytes(&SEED);
    let now = now();
    let verifier = Verifier::new(&TrustList {
        issuer: "VN-94".into(),
        generated_at: now,
        keys: vec![TrustedKey::ed25519(
            &key.public_key(),
            now - Duration::days(30),
            None,
        )],
        revoked: vec![],
    })
    .expect("a valid trust list");
    let claims = PassClaims {
        issuer: "VN-94".into(),
        pass_id: PassId([7; 16]),
        issued_at: now - Duration::hours(1),
        expires_at: now + Duration::hours(71),
        holder: Holder {
            name: "Nguyễn Hữu Long".into(),
            birth_year: 1935,
            masked_id: "094******089".into(),
            status: HealthStatus::Green,
            commune: "31549".into(),
            // The holder's optional keys 6 and 7 are in the seed too (`valid-token-before-vaccination` is the
            // same pass without them, as passes were issued before).
            vaccination: VaccinationSummary {
                doses: 3,
                last_dose: NaiveDate::from_ymd_opt(2022, 1, 15),
            },
        },
    };
    let token = kiemdich_pass::encode(&claims, &key);
    let cose = base45::decode(&token[PREFIX.len()..]).expect("a token is Base45");
    let venue_code = kiemdich_pass::sign_venue(VENUE_ID, &key);
    assert_eq!(verifier.verify(&token, now).as_ref(), Ok(&claims));
    Fixture {
        key,
        verifier,
        claims,
        token,
        cose,
        venue_code,
    }
});

/// A KD1 token whose claims are `payload` as is, correctly signed with the fixture key, so that the claims
/// parser and the time checks behind the signature check see arbitrary bytes.
pub fn sign_payload(payload: &[u8]) -> String {
    let key = ed25519_dalek::SigningKey::from_bytes(&SEED);
    let protected = HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(FIXTURE.key.kid().0.to_vec())
        .build();
    let sign1 = CoseSign1Builder::new()
        .protected(protected)
        .payload(payload.to_vec())
        .create_signature(b"", |data| key.sign(data).to_bytes().to_vec())
        .build();
    let bytes = sign1.to_tagged_vec().expect("COSE serialises");
    format!("{PREFIX}{}", base45::encode(&bytes))
}

#[cfg(test)]
mod tests {
    use super::{FIXTURE, VaccinationSummary};

    /// The seed corpus starts the text modes from the fixture's token and poster code; a change to either
    /// format must refresh those two files, or the fuzzer starts from near misses only.
    #[test]
    fn the_seed_corpus_holds_the_current_fixtures() {
        let seed = |path: &str| {
            std::fs::read_to_string(format!("{}/corpus/{path}", env!("CARGO_MANIFEST_DIR")))
                .expect("seed file")
        };
        assert_eq!(seed("kd1_verify/valid-token"), FIXTURE.token);
        // The fixture's pass as encoded before passes carried vaccination, which must stay valid.
        let mut old = FIXTURE.claims.clone();
        old.holder.vaccination = VaccinationSummary::NONE;
        assert_eq!(
            seed("kd1_verify/valid-token-before-vaccination"),
            kiemdich_pass::encode(&old, &FIXTURE.key)
        );
        assert_eq!(seed("venue_code/valid-code"), FIXTURE.venue_code);
    }
}

/// The CSV lines of `data`, each deserialised by the header names of its fields (the first `columns`, as
/// many as the line has), as the importers read their files: the lines that fit `T`.
pub fn rows_by_header<T: serde::de::DeserializeOwned>(
    data: &[u8],
    columns: &'static [&'static str],
) -> impl Iterator<Item = T> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data)
        .into_records()
        .flatten()
        .filter_map(move |record| {
            let fields: csv::StringRecord = record.iter().take(columns.len()).collect();
            let header = csv::StringRecord::from(&columns[..fields.len()]);
            fields.deserialize::<T>(Some(&header)).ok()
        })
}
