//! `Verifier::verify` on untrusted tokens. The first input byte picks how the rest is used:
//! - 0x01: XORed into the COSE bytes of a known-good token (extra bytes are appended) and re-encoded as
//!   Base45, so that every mutant gets past Base45 into the CBOR and COSE_Sign1 checks;
//! - 0x02: the claims payload, signed with the trusted key, so that the claims parser and the time checks
//!   behind the signature check are reached too;
//! - anything else: the whole input is the token text.

#![no_main]

use kiemdich_domain::VaccinationSummary;
use kiemdich_fuzz::{FIXTURE, now, sign_payload};
use kiemdich_pass::{PREFIX, base45};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let fx = &*FIXTURE;
    match data.split_first() {
        Some((0x01, xor)) => {
            let mut cose = fx.cose.clone();
            for (i, &d) in xor.iter().enumerate() {
                match cose.get_mut(i) {
                    Some(b) => *b ^= d,
                    None => cose.push(d),
                }
            }
            let token = format!("{PREFIX}{}", base45::encode(&cose));
            // Only the trusted key signed anything, and it signed only these claims: whatever verifies
            // must carry them.
            if let Ok(claims) = fx.verifier.verify(&token, now()) {
                assert_eq!(claims, fx.claims);
            }
        }
        Some((0x02, payload)) => {
            if let Ok(claims) = fx.verifier.verify(&sign_payload(payload), now()) {
                assert!(claims.expires_at > now(), "expired: {claims:?}");
                assert!(
                    claims.issued_at <= now() + chrono::Duration::minutes(5),
                    "not yet valid: {claims:?}"
                );
            }
        }
        _ => {
            let token = String::from_utf8_lossy(data);
            // The trusted key signed two whole passes: the fixture's, and the same pass as issued before
            // passes carried vaccination (a seed). Whatever verifies must be one of them.
            if let Ok(claims) = fx.verifier.verify(&token, now()) {
                let mut before = fx.claims.clone();
                before.holder.vaccination = VaccinationSummary::NONE;
                assert!(claims == fx.claims || claims == before, "{claims:?}");
            }
        }
    }
});
