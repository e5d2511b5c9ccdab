//! Private keys kept in the database, sealed under a key-encryption key (KEK) that each server is configured
//! with: every server behind a load balancer signs with the same keys, a rotation on one reaches the others at
//! their next refresh, and a copy of the database alone (a backup, a replica) holds no usable private key.
//!
//! ChaCha20-Poly1305 with a random 96-bit nonce per sealing and the key's name (`pass:<kid>`, `dcc:<file>`,
//! `gaen-export`) as associated data, so a sealed key moved under another name does not open.

use crate::db::{Result, Store, StoreError, now};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use std::path::Path;

/// The prefix of the current sealing format.
const V1: &str = "v1:";

/// The environment variable (and config file key `kek`) that gives a server its KEK.
pub const KEK_ENV: &str = "KIEMDICH_KEK";

/// A key-encryption key: 32 bytes, given as 64 hex digits or base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Kek([u8; 32]);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(…)")
    }
}

impl Kek {
    /// Reads a KEK written as 64 hex digits or as base64 of 32 bytes.
    pub fn parse(text: &str) -> Result<Kek> {
        let text = text.trim();
        let bytes = hex::decode(text)
            .ok()
            .or_else(|| STANDARD.decode(text).ok())
            .ok_or_else(|| StoreError::Invalid(format!("{KEK_ENV}: not hex or base64")))?;
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| {
            StoreError::Invalid(format!("{KEK_ENV}: a key-encryption key is 32 bytes"))
        })?;
        Ok(Kek(bytes))
    }

    /// A new random KEK.
    pub fn generate() -> Result<Kek> {
        let mut b = [0u8; 32];
        getrandom::fill(&mut b)
            .map_err(|e| StoreError::Invalid(format!("no randomness for a key: {e}")))?;
        Ok(Kek(b))
    }

    /// The KEK as 64 hex digits, as [`Kek::parse`] reads it.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    fn key(&self) -> LessSafeKey {
        LessSafeKey::new(
            UnboundKey::new(&CHACHA20_POLY1305, &self.0).expect("a 32-byte ChaCha20 key"),
        )
    }

    /// Seals `plain` under this KEK for the key named `name`.
    pub fn seal(&self, name: &str, plain: &[u8]) -> Result<String> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Invalid(format!("no randomness for a nonce: {e}")))?;
        let mut out = plain.to_vec();
        self.key()
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(name.as_bytes()),
                &mut out,
            )
            .map_err(|_| StoreError::Invalid(format!("sealing {name} failed")))?;
        let mut all = nonce.to_vec();
        all.extend_from_slice(&out);
        Ok(format!("{V1}{}", STANDARD.encode(all)))
    }

    /// Opens what [`Kek::seal`] sealed for `name`; a wrong KEK (or a sealed key moved to another name) is an
    /// error that says so.
    pub fn open(&self, name: &str, sealed: &str) -> Result<Vec<u8>> {
        let bytes = sealed
            .strip_prefix(V1)
            .and_then(|b| STANDARD.decode(b).ok())
            .filter(|b| b.len() >= NONCE_LEN)
            .ok_or_else(|| StoreError::Corrupt(format!("sealed key {name}")))?;
        let (nonce, body) = bytes.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| StoreError::Corrupt(format!("sealed key {name}")))?;
        let mut body = body.to_vec();
        let plain = self
            .key()
            .open_in_place(nonce, Aad::from(name.as_bytes()), &mut body)
            .map_err(|_| wrong_kek(name))?;
        Ok(plain.to_vec())
    }
}

fn wrong_kek(name: &str) -> StoreError {
    StoreError::Invalid(format!(
        "the key-encryption key does not open the private key {name} stored in the database: every server on \
         one database must be configured with the same {KEK_ENV} / khóa mã hóa khóa (KEK) không mở được khóa \
         {name}: mọi máy chủ dùng chung cơ sở dữ liệu phải cấu hình cùng {KEK_ENV}"
    ))
}

/// The file in the data directory that holds a generated KEK when none is configured.
fn kek_file(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("kek")
}

/// The KEK this process uses: the one configured on the store, else the one generated in the data directory
/// (created on first use, mode 0600, and logged), which suits the embedded database and the demo.
pub fn kek(store: &Store, data_dir: &Path) -> Result<Kek> {
    if let Some(k) = store.kek() {
        return Ok(k.clone());
    }
    let path = kek_file(data_dir);
    if !path.exists() {
        let fresh = Kek::generate()?;
        if let Err(e) = crate::keyring::write_seed(&path, &fresh.0)
            && !path.exists()
        {
            return Err(e);
        }
        tracing::warn!(path = %path.display(), "no {KEK_ENV} configured: generated a key-encryption key in the data directory; servers sharing a database need one configured");
    }
    Ok(Kek(crate::keyring::read_seed(&path)?))
}

impl Store {
    /// Seals private keys under `kek` from now on (configuration); without it, [`kek`] uses the data directory's.
    pub fn with_kek(mut self, kek: Kek) -> Store {
        self.kek = Some(std::sync::Arc::new(kek));
        self
    }

    pub(crate) fn kek(&self) -> Option<&Kek> {
        self.kek.as_deref()
    }

    /// Stores `plain` sealed under `kek` as `name` unless a key of that name is stored: true when stored.
    pub async fn put_sealed(&self, kek: &Kek, name: &str, plain: &[u8]) -> Result<bool> {
        let done = sqlx::query(
            "INSERT INTO sealed_keys (name, sealed, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
        )
        .bind(name.to_owned())
        .bind(kek.seal(name, plain)?)
        .bind(now())
        .execute(&self.write)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The private key stored as `name`, opened with `kek`.
    pub async fn sealed(&self, kek: &Kek, name: &str) -> Result<Option<Vec<u8>>> {
        let sealed: Option<String> =
            sqlx::query_scalar("SELECT sealed FROM sealed_keys WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&self.read)
                .await?;
        sealed.map(|s| kek.open(name, &s)).transpose()
    }

    /// The names of the stored private keys starting with `prefix`.
    pub async fn sealed_names(&self, prefix: &str) -> Result<Vec<String>> {
        let names: Vec<String> = sqlx::query_scalar("SELECT name FROM sealed_keys ORDER BY name")
            .fetch_all(&self.read)
            .await?;
        Ok(names
            .into_iter()
            .filter(|n| n.starts_with(prefix))
            .collect())
    }

    /// Deletes the private key stored as `name` (a key that signs no more).
    pub async fn delete_sealed(&self, name: &str) -> Result<()> {
        sqlx::query("DELETE FROM sealed_keys WHERE name = $1")
            .bind(name.to_owned())
            .execute(&self.write)
            .await?;
        Ok(())
    }

    /// Opens every stored private key with `kek`: the first that does not open is the error, so a server with
    /// the wrong KEK refuses to start rather than fail at its first signature.
    pub async fn check_kek(&self, kek: &Kek) -> Result<usize> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT name, sealed FROM sealed_keys ORDER BY name")
                .fetch_all(&self.read)
                .await?;
        for (name, sealed) in &rows {
            kek.open(name, sealed)?;
        }
        Ok(rows.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_with_its_kek_and_name() -> Result<()> {
        let kek = Kek::generate()?;
        let sealed = kek.seal("pass:abc", b"secret")?;
        assert_eq!(kek.open("pass:abc", &sealed)?, b"secret");
        assert!(kek.open("pass:abd", &sealed).is_err(), "another name");
        let other = Kek::generate()?;
        let e = other.open("pass:abc", &sealed).unwrap_err().to_string();
        assert!(e.contains(KEK_ENV), "{e}");
        assert_eq!(Kek::parse(&kek.to_hex())?, kek);
        assert_eq!(Kek::parse(&STANDARD.encode(kek.0))?, kek);
        assert!(Kek::parse("abcd").is_err());
        Ok(())
    }
}
