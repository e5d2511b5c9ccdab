//! Venue codes: the signed location code printed on a venue's poster. A resident who scans it checks in at a
//! place the province registered, and nobody can print a poster for a place that does not exist.
//!
//! Layout: `KDV1:<location id>.<kid>.<Ed25519 signature over everything before the last dot, base64url>`.

use crate::keys::SigningKey;
use crate::trust::b64;

pub const VENUE_PREFIX: &str = "KDV1:";

pub fn sign_venue(location_id: i64, key: &SigningKey) -> String {
    let body = format!("{VENUE_PREFIX}{location_id}.{}", key.kid());
    let sig = key.sign(body.as_bytes());
    format!("{body}.{}", b64(&sig))
}

/// The parts of a venue code: location id, kid (base64url), signed text and signature (base64url).
pub(crate) fn split(code: &str) -> Result<(i64, &str, &str, &str), String> {
    let code = code.trim();
    let (signed, sig) = code
        .rsplit_once('.')
        .ok_or("not a venue code: no signature")?;
    let rest = signed
        .strip_prefix(VENUE_PREFIX)
        .ok_or("not a venue code: it must start with KDV1:")?;
    let (id, kid) = rest.split_once('.').ok_or("not a venue code: no key id")?;
    let id = id
        .parse::<i64>()
        .map_err(|_| "not a venue code: bad location id")?;
    Ok((id, kid, signed, sig))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trust::{TrustList, TrustedKey, Verifier};
    use chrono::Utc;

    fn verifier_of(key: &SigningKey) -> Verifier {
        Verifier::new(&TrustList {
            issuer: "VN-94".into(),
            generated_at: Utc::now(),
            keys: vec![TrustedKey::ed25519(&key.public_key(), Utc::now(), None)],
            revoked: vec![],
        })
        .unwrap()
    }

    #[test]
    fn a_signed_venue_code_verifies_and_any_change_is_refused() {
        let key = SigningKey::generate();
        let v = verifier_of(&key);
        let code = sign_venue(42, &key);
        assert_eq!(v.verify_venue(&code), Ok(42));
        let forged = code.replacen("KDV1:42.", "KDV1:43.", 1);
        assert!(v.verify_venue(&forged).unwrap_err().contains("signature"));
        let other = verifier_of(&SigningKey::generate());
        assert!(other.verify_venue(&code).unwrap_err().contains("key"));
        assert!(v.verify_venue("https://example.org").is_err());
    }
}
