//! Signing keys: the private half sealed in the database under the key-encryption key (see [`crate::sealed`]),
//! the public half beside it, so that every server behind a load balancer signs with the same key and publishes
//! the same trust list. Keys of older versions, kept as plain files under `keys/` (mode 0600), are sealed into
//! the database by [`seal_key_files`] at the first start with a KEK.

use crate::db::{Result, Store, StoreError, now};
use crate::declarations::SigningKeyRow;
use chrono::{DateTime, TimeZone, Utc};
use kiemdich_pass::{SigningKey, TrustList, TrustedKey};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

fn key_path(dir: &Path, kid: &str) -> PathBuf {
    dir.join("keys").join(format!("{kid}.key"))
}

fn io_err(path: &Path, e: std::io::Error) -> StoreError {
    StoreError::Invalid(format!("{}: {e}", path.display()))
}

/// Writes a 32-byte private key as hex to a new file only the service may read (0600); an existing file is an
/// error (a key is never overwritten). Shared by every kind of signing key kept in the data dir.
pub(crate) fn write_seed(path: &Path, seed: &[u8]) -> Result<()> {
    let parent = path.parent().expect("key files live in a directory");
    fs::create_dir_all(parent).map_err(|e| io_err(parent, e))?;
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts.open(path).map_err(|e| io_err(path, e))?;
    f.write_all(format!("{}\n", hex::encode(seed)).as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| io_err(path, e))
}

/// Reads a 32-byte private key written by [`write_seed`].
pub(crate) fn read_seed(path: &Path) -> Result<[u8; 32]> {
    let text = fs::read_to_string(path).map_err(|e| io_err(path, e))?;
    let bytes = hex::decode(text.trim())
        .map_err(|_| StoreError::Invalid(format!("{}: not a hex key", path.display())))?;
    bytes
        .try_into()
        .map_err(|_| StoreError::Invalid(format!("{}: key is not 32 bytes", path.display())))
}

fn time(t: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(t, 0).single().unwrap_or_default()
}

/// The name a pass key's private half is sealed under.
fn sealed_name(kid: &str) -> String {
    format!("pass:{kid}")
}

/// Generates a key, seals its private half in the database and publishes its public half, active from now.
pub async fn generate(store: &Store, data_dir: &Path) -> Result<SigningKey> {
    let kek = crate::sealed::kek(store, data_dir)?;
    let key = SigningKey::generate();
    let row = SigningKeyRow {
        kid: key.kid().to_base64url(),
        alg: "EdDSA".into(),
        public_key: TrustedKey::ed25519(&key.public_key(), Utc::now(), None).public_key,
        not_before: now(),
        not_after: None,
        signed_until: None,
    };
    // Sealed first: a published key always has its private half.
    store
        .put_sealed(&kek, &sealed_name(&row.kid), &key.to_secret_bytes())
        .await?;
    store.insert_signing_key(&row).await?;
    Ok(key)
}

/// Replaces the active key: the old ones stop signing (their private halves are deleted) and stay in the
/// trust list, verify-only, for `overlap_secs` (the pass validity) so that passes already issued keep
/// working; then a new key signs.
pub async fn rotate(store: &Store, data_dir: &Path, overlap_secs: i64) -> Result<SigningKey> {
    let until = now() + overlap_secs;
    for k in store
        .signing_keys()
        .await?
        .iter()
        .filter(|k| k.not_after.is_none())
    {
        end(store, data_dir, &k.kid, until).await?;
    }
    generate(store, data_dir).await
}

/// Ends a key: it verifies until `not_after` and signs no more, and its private half is deleted, so that
/// nothing can sign with it again (a copy in a backup is the operator's to destroy).
pub async fn end(store: &Store, data_dir: &Path, kid: &str, not_after: i64) -> Result<()> {
    store.end_key(kid, not_after).await?;
    store.delete_sealed(&sealed_name(kid)).await?;
    let path = key_path(data_dir, kid);
    match fs::remove_file(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io_err(&path, e)),
        _ => Ok(()),
    }
}

/// The newest open-ended key whose private half is stored, which is the one that signs.
pub async fn active(store: &Store, data_dir: &Path) -> Result<Option<SigningKey>> {
    let kek = crate::sealed::kek(store, data_dir)?;
    let keys = store.signing_keys().await?;
    for row in keys.iter().rev().filter(|k| k.not_after.is_none()) {
        let Some(secret) = store.sealed(&kek, &sealed_name(&row.kid)).await? else {
            continue;
        };
        let seed: [u8; 32] = secret
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("sealed key {} is not 32 bytes", row.kid)))?;
        let key = SigningKey::from_secret_bytes(&seed);
        if key.kid().to_base64url() != row.kid {
            return Err(StoreError::Corrupt(format!(
                "sealed key {} holds a different key",
                row.kid
            )));
        }
        return Ok(Some(key));
    }
    Ok(None)
}

/// Seals the private keys an older version kept as plain files under `keys/` (pass keys `<kid>.key`, DSC keys
/// `dcc-dsc-*.key.pem`, the proximity export key) into the database under the KEK, then deletes the files:
/// after the first start with a KEK no private key is left in the clear. Returns how many were sealed.
pub async fn seal_key_files(store: &Store, data_dir: &Path) -> Result<usize> {
    let dir = data_dir.join("keys");
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io_err(&dir, e)),
    };
    let kek = crate::sealed::kek(store, data_dir)?;
    let mut sealed = 0;
    for entry in entries.flatten() {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(name) = plain_key_name(&file) else {
            continue;
        };
        let path = entry.path();
        let plain = match name.strip_prefix("dcc:") {
            Some(_) => fs::read(&path).map_err(|e| io_err(&path, e))?,
            None => read_seed(&path)?.to_vec(),
        };
        store.put_sealed(&kek, &name, &plain).await?;
        // Removed only once the database holds it (or already held it, from another server's start).
        if store.sealed(&kek, &name).await?.as_deref() == Some(plain.as_slice()) {
            fs::remove_file(&path).map_err(|e| io_err(&path, e))?;
            sealed += 1;
        }
    }
    Ok(sealed)
}

/// The sealed name of a plain key file, or `None` for a file that is not a private key.
fn plain_key_name(file: &str) -> Option<String> {
    if file == crate::proximity::EXPORT_KEY_FILE {
        return Some(crate::proximity::EXPORT_KEY_NAME.to_owned());
    }
    if file.starts_with("dcc-dsc-") && file.ends_with(".key.pem") {
        return Some(format!("dcc:{file}"));
    }
    let kid = file.strip_suffix(".key")?;
    kid.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .then(|| sealed_name(kid))
}

/// The published trust list. Ended keys stay listed with their end, so that verifiers can tell a pass signed
/// by a retired key from one signed by a stranger.
pub async fn trust_list(store: &Store, issuer: &str) -> Result<TrustList> {
    let keys = store
        .signing_keys()
        .await?
        .into_iter()
        .map(|k| TrustedKey {
            kid: k.kid,
            alg: k.alg,
            public_key: k.public_key,
            not_before: time(k.not_before),
            not_after: k.not_after.map(time),
            signed_until: k.signed_until.map(time),
        })
        .collect();
    Ok(TrustList {
        issuer: issuer.to_owned(),
        generated_at: time(now()),
        keys,
        revoked: Vec::new(),
    })
}
