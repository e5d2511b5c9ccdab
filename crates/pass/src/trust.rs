//! The trust list: the public keys a verifier accepts, with their validity, as JSON that offline scanners cache.

use crate::kd1::{self, PassClaims, PassId, Reason, Rejection};
use crate::keys::Kid;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

pub(crate) fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("bad base64url: {e}"))
}

/// One public key as published.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedKey {
    pub kid: String,
    pub alg: String,
    pub public_key: String,
    pub not_before: DateTime<Utc>,
    pub not_after: Option<DateTime<Utc>>,
    /// When the key stopped signing (rotated out or retired): a pass it dates later is forged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_until: Option<DateTime<Utc>>,
}

impl TrustedKey {
    pub fn ed25519(
        public_key: &[u8; 32],
        not_before: DateTime<Utc>,
        not_after: Option<DateTime<Utc>>,
    ) -> TrustedKey {
        TrustedKey {
            kid: Kid::of(public_key).to_base64url(),
            alg: "EdDSA".into(),
            public_key: b64(public_key),
            not_before,
            not_after,
            signed_until: None,
        }
    }
}

/// The document served at `/api/v1/trust-list`. `revoked` is present in files that offline verifiers keep.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustList {
    pub issuer: String,
    pub generated_at: DateTime<Utc>,
    pub keys: Vec<TrustedKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revoked: Vec<String>,
}

struct KeyEntry {
    key: ed25519_dalek::VerifyingKey,
    not_before: DateTime<Utc>,
    not_after: Option<DateTime<Utc>>,
    signed_until: Option<DateTime<Utc>>,
}

/// Whether a check verifies the signature, or the token is one this deployment signed and holds on record.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Signature {
    Verify,
    MadeHere,
}

/// A trust list parsed once into ready-to-use keys, so that a verify does no key decoding.
pub struct Verifier {
    keys: HashMap<Kid, KeyEntry>,
    revoked: HashSet<PassId>,
}

impl Verifier {
    pub fn new(list: &TrustList) -> Result<Verifier, String> {
        let mut keys = HashMap::new();
        for k in &list.keys {
            if k.alg != "EdDSA" {
                return Err(format!(
                    "key {}: algorithm {} is not supported for KD1",
                    k.kid, k.alg
                ));
            }
            let raw: [u8; 32] = unb64(&k.public_key)?
                .try_into()
                .map_err(|_| format!("key {}: not 32 bytes", k.kid))?;
            let kid = Kid::of(&raw);
            if kid.to_base64url() != k.kid {
                return Err(format!(
                    "key {}: kid does not match the public key (expected {kid})",
                    k.kid
                ));
            }
            let key = ed25519_dalek::VerifyingKey::from_bytes(&raw)
                .map_err(|e| format!("key {}: {e}", k.kid))?;
            keys.insert(
                kid,
                KeyEntry {
                    key,
                    not_before: k.not_before,
                    not_after: k.not_after,
                    signed_until: k.signed_until,
                },
            );
        }
        let revoked = list
            .revoked
            .iter()
            .map(|id| {
                PassId::parse(id)
                    .ok_or_else(|| format!("revoked pass id {id:?} is not 32 hex digits"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Verifier { keys, revoked })
    }

    /// Verifies a venue poster's code and returns its location id. A retired key's posters stay valid until
    /// the key leaves the trust list: posters hang on walls for months.
    pub fn verify_venue(&self, code: &str) -> Result<i64, String> {
        let (id, kid, signed, sig) = crate::venue::split(code)?;
        let entry = self
            .keys
            .iter()
            .find(|(k, _)| k.to_base64url() == kid)
            .map(|(_, e)| e)
            .ok_or_else(|| format!("venue code signed by key {kid}, which is not trusted"))?;
        let sig: [u8; 64] = unb64(sig)?
            .try_into()
            .map_err(|_| "venue code signature is not 64 bytes".to_owned())?;
        entry
            .key
            .verify_strict(
                signed.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&sig),
            )
            .map_err(|_| "venue code has a bad signature".to_owned())?;
        Ok(id)
    }

    /// Verifies a token fully offline: structure, key, signature, validity period and the cached revocations.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<PassClaims, Rejection> {
        self.check(token, now, Signature::Verify)
    }

    /// Every check of [`Verifier::verify`] but the Ed25519 signature, in the same order and with the same
    /// reasons, for a token the caller holds on record byte for byte (found by its digest among the passes
    /// this deployment signed): its signature was made here, so only the key's and the pass's validity at
    /// `now` can have changed since. A token the caller does not hold must go through `verify`.
    pub fn verify_held(&self, token: &str, now: DateTime<Utc>) -> Result<PassClaims, Rejection> {
        self.check(token, now, Signature::MadeHere)
    }

    fn check(
        &self,
        token: &str,
        now: DateTime<Utc>,
        signature: Signature,
    ) -> Result<PassClaims, Rejection> {
        let (kid, signed) = kd1::parse(token)?;
        let entry = self.keys.get(&kid).ok_or_else(|| {
            Rejection::new(
                Reason::UnknownKey,
                format!("key {kid} is not in the trust list"),
            )
        })?;
        if entry.not_after.is_some_and(|t| t <= now) {
            return Err(Rejection::new(
                Reason::KeyRetired,
                format!("key {kid} was retired"),
            ));
        }
        if signature == Signature::Verify {
            kd1::check_signature(&signed, &entry.key)?;
        }
        let claims = kd1::claims_at(&signed, now)?;
        if claims.issued_at < entry.not_before {
            return Err(Rejection::new(
                Reason::UnknownKey,
                format!("pass issued before key {kid} came into use"),
            ));
        }
        if entry.signed_until.is_some_and(|t| claims.issued_at > t) {
            return Err(Rejection::new(
                Reason::KeyRetired,
                format!("pass dated after key {kid} stopped signing"),
            ));
        }
        if self.revoked.contains(&claims.pass_id) {
            return Err(Rejection::new(
                Reason::Revoked,
                "pass is on the revocation list",
            ));
        }
        Ok(claims)
    }
}
