//! Ed25519 signing keys and their key ids.

use ed25519_dalek::Signer;
use sha2::{Digest, Sha256};
use std::fmt;

/// Key id: the first 8 bytes of SHA-256 over the raw public key (as EU DCC does), carried in every pass.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kid(pub [u8; 8]);

impl Kid {
    pub fn of(public_key: &[u8; 32]) -> Kid {
        let digest = Sha256::digest(public_key);
        Kid(digest[..8].try_into().expect("8 bytes"))
    }

    pub fn to_base64url(&self) -> String {
        crate::trust::b64(&self.0)
    }
}

impl fmt::Debug for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Kid({})", self.to_base64url())
    }
}

impl fmt::Display for Kid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_base64url())
    }
}

/// A private signing key. Never serialised except through [`SigningKey::to_secret_bytes`] for the key file.
pub struct SigningKey {
    key: ed25519_dalek::SigningKey,
    kid: Kid,
}

impl SigningKey {
    pub fn generate() -> SigningKey {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).expect("the operating system provides randomness");
        SigningKey::from_secret_bytes(&seed)
    }

    pub fn from_secret_bytes(seed: &[u8; 32]) -> SigningKey {
        let key = ed25519_dalek::SigningKey::from_bytes(seed);
        let kid = Kid::of(key.verifying_key().as_bytes());
        SigningKey { key, kid }
    }

    pub fn to_secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    pub fn kid(&self) -> Kid {
        self.kid
    }

    pub fn public_key(&self) -> [u8; 32] {
        self.key.verifying_key().to_bytes()
    }

    pub(crate) fn sign(&self, data: &[u8]) -> Vec<u8> {
        self.key.sign(data).to_bytes().to_vec()
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({})", self.kid)
    }
}
