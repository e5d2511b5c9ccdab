//! The EU Digital COVID Certificate (HC1) in service: the deployment's document signers (DSC: the certificate
//! here, the private key a 0600 file under the data dir's `keys/`, as the KD1 keys), foreign DSCs imported from
//! trust lists (verify-only), and the certificates issued (so that a person's certificate is served again while
//! their doses are unchanged and its UVCI stays stable).

use crate::access::insert_audit;
use crate::db::{Result, Store, StoreError, now};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use kiemdich_dcc::{CertType, Dsc, DscSigner, TrustList};
use sqlx::Row;
use std::path::{Path, PathBuf};

/// A DSC of this deployment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DscRow {
    /// base64 of the 8-byte kid.
    pub kid: String,
    /// base64 DER.
    pub certificate: String,
    /// The private key's file name under `keys/`.
    pub key_file: String,
    pub subject: String,
    pub not_before: i64,
    pub not_after: i64,
    /// Comma-separated usages; empty = valid for all.
    pub usages: String,
    /// The CSCA certificate (base64 DER), when given at install.
    pub csca: Option<String>,
    pub installed_at: i64,
    pub active: bool,
}

/// A certificate issued to a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedDcc {
    pub uvci: String,
    pub citizen_id: String,
    /// SHA-256 (hex) of what the certificate was made from: the holder's names and birth date, and the doses.
    pub doses_hash: String,
    pub hc1: String,
    pub payload_hash: String,
    pub dsc_kid: String,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// What a trust-list import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustImport {
    pub inserted: usize,
    pub unchanged: usize,
    /// `certificates[i]: reason` for each entry refused.
    pub rejected: Vec<String>,
}

fn invalid(e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(e.to_string())
}

fn unb64(s: &str) -> std::result::Result<Vec<u8>, String> {
    let compact: String = s.split_whitespace().collect();
    STANDARD
        .decode(&compact)
        .or_else(|_| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(compact.trim_end_matches('='))
        })
        .map_err(|e| format!("bad base64: {e}"))
}

fn keys_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("keys")
}

/// The DSC private keys by file name: those sealed in the database, then those `dcc dsc request` wrote under
/// `keys/` and no start has sealed yet.
async fn key_files(store: &Store, data_dir: &Path) -> Result<Vec<(String, String)>> {
    let kek = crate::sealed::kek(store, data_dir)?;
    let mut out = Vec::new();
    for name in store.sealed_names(SEALED_PREFIX).await? {
        if let Some(pem) = sealed_pem(store, &kek, &name).await? {
            out.push((name[SEALED_PREFIX.len()..].to_owned(), pem));
        }
    }
    let dir = keys_dir(data_dir);
    let entries = match std::fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(invalid(format!("{}: {e}", dir.display()))),
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("dcc-dsc-") && name.ends_with(".key.pem") {
            let text = std::fs::read_to_string(entry.path())
                .map_err(|e| invalid(format!("{}: {e}", entry.path().display())))?;
            out.push((name, text));
        }
    }
    out.sort();
    Ok(out)
}

/// DSC keys are sealed as `dcc:<file name>`.
const SEALED_PREFIX: &str = "dcc:";

async fn sealed_pem(store: &Store, kek: &crate::Kek, name: &str) -> Result<Option<String>> {
    store
        .sealed(kek, name)
        .await?
        .map(|b| String::from_utf8(b).map_err(|_| StoreError::Corrupt(format!("{name}: not PEM"))))
        .transpose()
}

/// Installs a DSC certificate (PEM, DER or base64 DER) signed for a key that `dcc dsc request` made here: it
/// must match one of the key files (the same public key), be valid at `at` and allow vaccination certificates.
/// It is stored and put in service (the newest installed signs). `csca` is the CSCA certificate to publish.
pub async fn install(
    store: &Store,
    data_dir: &Path,
    cert: &[u8],
    csca: Option<&[u8]>,
    at: DateTime<Utc>,
) -> Result<Dsc> {
    let dsc = Dsc::from_any(cert).map_err(invalid)?;
    if !dsc.allows(CertType::Vaccination) {
        return Err(invalid(
            "the DSC may not sign vaccination certificates (its extended key usage lacks 1.3.6.1.4.1.1847.2021.1.2) \
             / chứng thư ký không được phép ký chứng nhận tiêm chủng",
        ));
    }
    if at >= dsc.not_after() {
        return Err(invalid(format!(
            "the DSC expired on {} / chứng thư ký đã hết hạn",
            dsc.not_after().to_rfc3339()
        )));
    }
    if at < dsc.not_before() {
        return Err(invalid(format!(
            "the DSC is valid only from {} / chứng thư ký chưa có hiệu lực",
            dsc.not_before().to_rfc3339()
        )));
    }
    let key_file = key_files(store, data_dir)
        .await?
        .into_iter()
        .find(|(_, pem)| DscSigner::load(pem, dsc.der()).is_ok())
        .map(|(name, _)| name)
        .ok_or_else(|| {
            invalid(format!(
                "the certificate matches no DSC key in {} (make one with `kiemdich dcc dsc request`) / chứng thư \
                 không khớp khóa DSC nào đã yêu cầu",
                keys_dir(data_dir).display()
            ))
        })?;
    let csca = match csca {
        Some(bytes) => Some(
            STANDARD.encode(kiemdich_dcc::der_from_any(bytes, "CERTIFICATE").map_err(invalid)?),
        ),
        None => None,
    };
    let row = DscRow {
        kid: STANDARD.encode(dsc.kid()),
        certificate: STANDARD.encode(dsc.der()),
        key_file,
        subject: dsc.subject().to_owned(),
        not_before: dsc.not_before().timestamp(),
        not_after: dsc.not_after().timestamp(),
        usages: dsc
            .usages()
            .iter()
            .map(|u| u.key())
            .collect::<Vec<_>>()
            .join(","),
        csca,
        installed_at: at.timestamp(),
        active: true,
    };
    store.insert_dsc(&row).await?;
    // The key now in service leaves the disk for the database, where every server finds it.
    crate::keyring::seal_key_files(store, data_dir).await?;
    Ok(dsc)
}

/// The DSC that signs: the newest installed active one valid at `at` whose private key is stored (sealed in
/// the database, or a file not sealed yet).
pub async fn signer(
    store: &Store,
    data_dir: &Path,
    at: DateTime<Utc>,
) -> Result<Option<DscSigner>> {
    let t = at.timestamp();
    let kek = crate::sealed::kek(store, data_dir)?;
    for row in store.dscs().await?.iter().rev() {
        if !row.active || t < row.not_before || t >= row.not_after {
            continue;
        }
        let name = format!("{SEALED_PREFIX}{}", row.key_file);
        let pem = match sealed_pem(store, &kek, &name).await? {
            Some(pem) => pem,
            None => match std::fs::read_to_string(keys_dir(data_dir).join(&row.key_file)) {
                Ok(pem) => pem,
                Err(_) => continue,
            },
        };
        let der = unb64(&row.certificate)
            .map_err(|e| StoreError::Corrupt(format!("DSC {}: {e}", row.kid)))?;
        return DscSigner::load(&pem, &der)
            .map(Some)
            .map_err(|e| StoreError::Invalid(format!("{name}: {e}")));
    }
    Ok(None)
}

/// Every DSC this deployment trusts: its own (all installed, for certificates already issued) and imported.
pub async fn trust_list(store: &Store) -> Result<TrustList> {
    let mut list = TrustList::new();
    for row in store.dscs().await? {
        let der = unb64(&row.certificate)
            .map_err(|e| StoreError::Corrupt(format!("DSC {}: {e}", row.kid)))?;
        list.add(Dsc::from_der(&der).map_err(|e| StoreError::Corrupt(e.to_string()))?);
    }
    for (kid, cert) in store.trust_entries().await? {
        let (Ok(kid), Ok(der)) = (unb64(&kid), unb64(&cert)) else {
            return Err(StoreError::Corrupt(format!("trust entry {kid}")));
        };
        list.add_with_kid(
            kid,
            Dsc::from_der(&der).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        );
    }
    Ok(list)
}

/// Imports a trust list `{"certificates": [{"kid", "certificate"}]}` (base64 DER): each good entry kept, each bad
/// one reported (a certificate that does not parse, or a kid that is not the first 8 bytes of SHA-256 of its DER).
pub async fn import_trust(store: &Store, text: &str, source: &str) -> Result<TrustImport> {
    #[derive(serde::Deserialize)]
    struct Entry {
        #[serde(default)]
        kid: Option<String>,
        #[serde(default)]
        certificate: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct List {
        certificates: Vec<serde_json::Value>,
    }
    let list: List =
        serde_json::from_str(text).map_err(|e| invalid(format!("not a trust list: {e}")))?;
    let mut out = TrustImport::default();
    let mut good = Vec::new();
    for (i, value) in list.certificates.into_iter().enumerate() {
        let checked = (|| -> std::result::Result<(String, String), String> {
            let e: Entry = serde_json::from_value(value).map_err(|e| e.to_string())?;
            let cert = e.certificate.ok_or("certificate: missing")?;
            let der = unb64(&cert).map_err(|e| format!("certificate: {e}"))?;
            Dsc::from_der(&der).map_err(|e| format!("certificate: {e}"))?;
            let computed = kiemdich_dcc::kid_of(&der);
            if let Some(kid) = e.kid {
                let kid = unb64(&kid).map_err(|e| format!("kid: {e}"))?;
                if kid != computed {
                    return Err(format!(
                        "kid: {} does not match the certificate (its kid is {})",
                        STANDARD.encode(&kid),
                        STANDARD.encode(computed)
                    ));
                }
            }
            Ok((STANDARD.encode(computed), STANDARD.encode(&der)))
        })();
        match checked {
            Ok(entry) => good.push(entry),
            Err(reason) => out.rejected.push(format!("certificates[{i}]: {reason}")),
        }
    }
    let inserted = store.insert_trust_entries(&good, source).await?;
    out.inserted = inserted;
    out.unchanged = good.len() - inserted;
    Ok(out)
}

fn dsc_from_row(r: &sqlx::any::AnyRow) -> Result<DscRow> {
    Ok(DscRow {
        kid: r.try_get("kid")?,
        certificate: r.try_get("certificate")?,
        key_file: r.try_get("key_file")?,
        subject: r.try_get("subject")?,
        not_before: r.try_get("not_before")?,
        not_after: r.try_get("not_after")?,
        usages: r.try_get("usages")?,
        csca: r.try_get("csca")?,
        installed_at: r.try_get("installed_at")?,
        active: r.try_get::<i64, _>("active")? != 0,
    })
}

fn issued_from_row(r: &sqlx::any::AnyRow) -> Result<IssuedDcc> {
    Ok(IssuedDcc {
        uvci: r.try_get("uvci")?,
        citizen_id: r.try_get("citizen_id")?,
        doses_hash: r.try_get("doses_hash")?,
        hc1: r.try_get("hc1")?,
        payload_hash: r.try_get("payload_hash")?,
        dsc_kid: r.try_get("dsc_kid")?,
        issued_at: r.try_get("issued_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Store {
    /// Stores a DSC of this deployment; installing the same certificate again is a conflict.
    pub async fn insert_dsc(&self, row: &DscRow) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO dcc_dscs (kid, certificate, key_file, subject, not_before, not_after, usages, csca, \
             installed_at, active) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(row.kid.clone())
        .bind(row.certificate.clone())
        .bind(row.key_file.clone())
        .bind(row.subject.clone())
        .bind(row.not_before)
        .bind(row.not_after)
        .bind(row.usages.clone())
        .bind(row.csca.clone())
        .bind(row.installed_at)
        .bind(i64::from(row.active))
        .execute(&mut *tx)
        .await
        .map_err(crate::db::conflict(format!("DSC {}", row.kid)))?;
        insert_audit(
            &mut tx,
            "system",
            "dcc.dsc.install",
            &format!("dsc:{}", row.kid),
            &row.subject,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The deployment's DSCs, oldest installed first.
    pub async fn dscs(&self) -> Result<Vec<DscRow>> {
        sqlx::query(
            "SELECT kid, certificate, key_file, subject, not_before, not_after, usages, csca, installed_at, active \
             FROM dcc_dscs ORDER BY installed_at, kid",
        )
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(dsc_from_row)
        .collect()
    }

    /// Adds imported trust entries (kid, certificate, both base64); those already there are left. Returns how
    /// many were new.
    pub async fn insert_trust_entries(
        &self,
        entries: &[(String, String)],
        source: &str,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let mut inserted = 0;
        for (kid, cert) in entries {
            let done = sqlx::query(
                "INSERT INTO dcc_trust (kid, certificate, source, imported_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (kid, certificate) DO NOTHING",
            )
            .bind(kid.clone())
            .bind(cert.clone())
            .bind(source.to_owned())
            .bind(now())
            .execute(&mut *tx)
            .await?;
            inserted += usize::try_from(done.rows_affected()).unwrap_or(0);
        }
        insert_audit(
            &mut tx,
            "system",
            "dcc.trust.import",
            &format!("trust:{source}"),
            &format!("{inserted} new of {}", entries.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(inserted)
    }

    /// Imported trust entries (kid, certificate), base64.
    pub async fn trust_entries(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query(
            "SELECT kid, certificate FROM dcc_trust ORDER BY imported_at, kid, certificate",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kid")?, r.try_get("certificate")?)))
            .collect()
    }

    /// The newest certificate issued to a person and not revoked.
    pub async fn latest_dcc(&self, citizen_id: &str) -> Result<Option<IssuedDcc>> {
        let row = sqlx::query(
            "SELECT uvci, citizen_id, doses_hash, hc1, payload_hash, dsc_kid, issued_at, expires_at FROM dcc_issued \
             WHERE citizen_id = $1 AND revoked_at IS NULL ORDER BY issued_at DESC, uvci DESC LIMIT 1",
        )
        .bind(citizen_id.to_owned())
        .fetch_optional(&self.read)
        .await?;
        row.as_ref().map(issued_from_row).transpose()
    }

    /// Whom a certificate this deployment issued names: the citizen and whether it was revoked since, for the
    /// certificate with this UVCI signed by the DSC `dsc_kid` (base64); `None` for any other certificate.
    pub async fn dcc_holder(&self, uvci: &str, dsc_kid: &str) -> Result<Option<(String, bool)>> {
        let row = sqlx::query(
            "SELECT citizen_id, revoked_at FROM dcc_issued WHERE uvci = $1 AND dsc_kid = $2",
        )
        .bind(uvci.to_owned())
        .bind(dsc_kid.to_owned())
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("citizen_id")?,
                r.try_get::<Option<i64>, _>("revoked_at")?.is_some(),
            ))
        })
        .transpose()
    }

    /// Records a certificate issued (audited).
    pub async fn insert_dcc(&self, row: &IssuedDcc, actor: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO dcc_issued (uvci, citizen_id, doses_hash, hc1, payload_hash, dsc_kid, issued_at, \
             expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(row.uvci.clone())
        .bind(row.citizen_id.clone())
        .bind(row.doses_hash.clone())
        .bind(row.hc1.clone())
        .bind(row.payload_hash.clone())
        .bind(row.dsc_kid.clone())
        .bind(row.issued_at)
        .bind(row.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(crate::db::conflict(format!("UVCI {}", row.uvci)))?;
        insert_audit(
            &mut tx,
            actor,
            "dcc.issue",
            &format!("citizen:{}", row.citizen_id),
            &row.uvci,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
