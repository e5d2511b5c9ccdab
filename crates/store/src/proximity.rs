//! Proximity tracing's server side (GAEN diagnosis keys): verification codes a health officer issues for a
//! confirmed case, the keys a phone uploads with one, the signed export batches every phone downloads, their
//! retention, and the per-unit daily counts health officers see.
//!
//! What links keys to a person never outlives the upload: a code row carries its case only until the upload
//! that uses it deletes it (in the same transaction as the keys are stored), and the keys table has no case,
//! person or code column. The counts are per commune and day, nothing finer.

use crate::access::insert_audit;
use crate::db::{Backend, Result, Store, StoreError, insert_rows, list_placeholders, now};
use crate::declarations::{Notice, enqueue};
use chrono::NaiveDate;
use kiemdich_domain::UnitCode;
use kiemdich_proximity::p256::ecdsa::SigningKey;
use kiemdich_proximity::{
    EnIntervalNumber, KeyExport, SignatureInfo, TemporaryExposureKey, build_export,
    crypto::from_hex_array, export::ECDSA_P256_SHA256, hex,
};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::path::{Path, PathBuf};

/// A verification code to store: its hash (never the code), the case and its commune, the first interval of
/// the case's infectious window, and when it stops being usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProximityCode {
    pub code_hash: String,
    pub case_id: i64,
    pub unit_code: UnitCode,
    pub window_start: EnIntervalNumber,
    pub expires_at: i64,
}

/// One published batch, as the export list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportBatch {
    pub id: i64,
    /// The upload times it covers, Unix seconds, `[start, end)`.
    pub start: i64,
    pub end: i64,
    pub keys: i64,
}

/// A unit's day: codes issued, uploads made with them and keys accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProximityCount {
    pub unit_code: UnitCode,
    pub day: NaiveDate,
    pub codes_issued: i64,
    pub uploads: i64,
    pub keys_uploaded: i64,
}

/// What one retention purge of proximity data deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProximityPurged {
    pub keys: u64,
    pub batches: u64,
    pub codes: u64,
}

/// The export signing key's file under the data dir's `keys/`, where versions before sealed keys kept it.
pub(crate) const EXPORT_KEY_FILE: &str = "proximity-export.key";
/// The name the export signing key is sealed under in the database.
pub(crate) const EXPORT_KEY_NAME: &str = "gaen-export";

fn export_key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("keys").join(EXPORT_KEY_FILE)
}

/// A random P-256 private scalar (almost every 32-byte string is one; the rest are drawn again).
fn fresh_export_seed() -> Result<[u8; 32]> {
    loop {
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed)
            .map_err(|e| StoreError::Invalid(format!("no randomness for a key: {e}")))?;
        if SigningKey::from_slice(&seed).is_ok() {
            return Ok(seed);
        }
    }
}

/// The P-256 key that signs export batches, sealed in the database (one for every server) and created on
/// first need; a plain key file of an older version is taken over rather than replaced. Two servers creating
/// it at once agree: the first insert wins and both read it back.
pub async fn export_signing_key(store: &Store, data_dir: &Path) -> Result<SigningKey> {
    let kek = crate::sealed::kek(store, data_dir)?;
    if store.sealed(&kek, EXPORT_KEY_NAME).await?.is_none() {
        let path = export_key_path(data_dir);
        let seed = match path.exists() {
            true => crate::keyring::read_seed(&path)?,
            false => fresh_export_seed()?,
        };
        store.put_sealed(&kek, EXPORT_KEY_NAME, &seed).await?;
    }
    let seed = store
        .sealed(&kek, EXPORT_KEY_NAME)
        .await?
        .ok_or_else(|| StoreError::Failed("the export key was not stored".into()))?;
    SigningKey::from_slice(&seed)
        .map_err(|_| StoreError::Corrupt("the sealed export key is not a P-256 private key".into()))
}

/// Adds to a unit's counts of a day, creating the row on its first use.
async fn count(
    conn: &mut AnyConnection,
    unit: &UnitCode,
    day: NaiveDate,
    (codes, uploads, keys): (i64, i64, i64),
) -> Result<()> {
    sqlx::query(
        "INSERT INTO proximity_counts (unit_code, day, codes_issued, uploads, keys_uploaded) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (unit_code, day) DO UPDATE SET codes_issued = proximity_counts.codes_issued + excluded.codes_issued, \
         uploads = proximity_counts.uploads + excluded.uploads, keys_uploaded = proximity_counts.keys_uploaded + excluded.keys_uploaded",
    )
    .bind(unit.as_str().to_owned())
    .bind(day.to_string())
    .bind(codes)
    .bind(uploads)
    .bind(keys)
    .execute(conn)
    .await?;
    Ok(())
}

fn key_from_row(r: &AnyRow) -> Result<TemporaryExposureKey> {
    let id: i64 = r.try_get("id")?;
    let bad = |what: &str| StoreError::Corrupt(format!("proximity key {id}: {what}"));
    let key_hex: String = r.try_get("key_hex")?;
    let number = |col: &str| -> Result<i64> { Ok(r.try_get::<i64, _>(col)?) };
    Ok(TemporaryExposureKey {
        key: from_hex_array::<16>(&key_hex).ok_or_else(|| bad("key_hex"))?,
        rolling_start: EnIntervalNumber(
            u32::try_from(number("rolling_start")?).map_err(|_| bad("rolling_start"))?,
        ),
        rolling_period: u32::try_from(number("rolling_period")?)
            .map_err(|_| bad("rolling_period"))?,
        transmission_risk_level: u8::try_from(number("risk_level")?)
            .map_err(|_| bad("risk_level"))?,
    })
}

impl Store {
    /// Stores a verification code, queues its SMS (secret: the body is blanked once sent) and counts it for the
    /// case's commune on `day`, with the audit entry, in one transaction.
    pub async fn issue_proximity_code(
        &self,
        actor: &str,
        code: &NewProximityCode,
        day: NaiveDate,
        sms: Option<Notice>,
    ) -> Result<()> {
        let at = now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO proximity_codes (code_hash, case_id, unit_code, window_start, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(code.code_hash.clone())
        .bind(code.case_id)
        .bind(code.unit_code.as_str().to_owned())
        .bind(i64::from(code.window_start.0))
        .bind(actor.to_owned())
        .bind(at)
        .bind(code.expires_at)
        .execute(&mut *tx)
        .await
        .map_err(crate::db::conflict("verification code"))?;
        if let Some(sms) = sms {
            enqueue(&mut tx, &sms, true, at).await?;
        }
        count(&mut tx, &code.unit_code, day, (1, 0, 0)).await?;
        insert_audit(
            &mut tx,
            actor,
            "proximity.code",
            &format!("case:{}", code.case_id),
            &format!("key upload code, usable until {}", code.expires_at),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses up the code with this hash and stores the keys of the case's infectious window (those ending
    /// after its first interval; the others are dropped), counting the upload, in one transaction. `None`
    /// when no usable code has this hash (unknown, used, expired): nothing is stored then.
    pub async fn upload_proximity_keys(
        &self,
        code_hash: &str,
        keys: &[TemporaryExposureKey],
        at: i64,
        day: NaiveDate,
    ) -> Result<Option<usize>> {
        let mut tx = self.begin_write().await?;
        let used = sqlx::query(
            "DELETE FROM proximity_codes WHERE code_hash = $1 AND expires_at > $2 RETURNING unit_code, window_start",
        )
        .bind(code_hash.to_owned())
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = used else {
            return Ok(None);
        };
        let unit: String = row.try_get("unit_code")?;
        let unit = UnitCode::parse(&unit)
            .map_err(|e| StoreError::Corrupt(format!("proximity code: unit_code: {e}")))?;
        let start: i64 = row.try_get("window_start")?;
        let kept: Vec<&TemporaryExposureKey> = keys
            .iter()
            .filter(|k| i64::from(k.end().0) > start)
            .collect();
        insert_rows(
            &mut tx,
            self.backend(),
            "proximity_keys (key_hex, rolling_start, rolling_period, risk_level, uploaded_at)",
            5,
            "",
            &kept,
            |q, k| {
                q.bind(hex(&k.key))
                    .bind(i64::from(k.rolling_start.0))
                    .bind(i64::from(k.rolling_period))
                    .bind(i64::from(k.transmission_risk_level))
                    .bind(at)
            },
        )
        .await?;
        let n = i64::try_from(kept.len()).unwrap_or(i64::MAX);
        count(&mut tx, &unit, day, (0, 1, n)).await?;
        tx.commit().await?;
        Ok(Some(kept.len()))
    }

    /// Publishes every key not yet in a batch as a new signed batch (`batch_num = batch_size = 1`, the keys in
    /// the order of their bytes, so the order says nothing of who uploaded them), covering the upload times
    /// from the previous batch's end to now. `None` when there is nothing new. Batches are cut one at a time,
    /// whichever process cuts them.
    pub async fn cut_proximity_export(
        &self,
        data_dir: &Path,
        region: &str,
    ) -> Result<Option<ExportBatch>> {
        let signer = export_signing_key(self, data_dir).await?;
        let at = now();
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("LOCK TABLE proximity_exports IN EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await?;
        }
        let rows = sqlx::query(
            "SELECT id, key_hex, rolling_start, rolling_period, risk_level, uploaded_at FROM proximity_keys \
             WHERE batch_id IS NULL ORDER BY key_hex",
        )
        .fetch_all(&mut *tx)
        .await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let keys = rows.iter().map(key_from_row).collect::<Result<Vec<_>>>()?;
        let first_upload = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("uploaded_at"))
            .collect::<std::result::Result<Vec<_>, _>>()?
            .into_iter()
            .min()
            .unwrap_or(at);
        let previous_end: Option<i64> =
            sqlx::query_scalar("SELECT MAX(end_at) FROM proximity_exports")
                .fetch_one(&mut *tx)
                .await?;
        let start = previous_end.unwrap_or(first_upload).min(first_upload);
        let end = at + 1;
        let info = SignatureInfo {
            verification_key_version: "v1".into(),
            verification_key_id: region.to_owned(),
            signature_algorithm: ECDSA_P256_SHA256.into(),
        };
        let export = KeyExport {
            start_timestamp: u64::try_from(start).unwrap_or(0),
            end_timestamp: u64::try_from(end).unwrap_or(0),
            region: region.to_owned(),
            batch_num: 1,
            batch_size: 1,
            signature_infos: vec![info.clone()],
            keys,
        };
        let body = build_export(&export, &signer, &info);
        let key_count = i64::try_from(export.keys.len()).unwrap_or(i64::MAX);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO proximity_exports (start_at, end_at, key_count, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(start)
        .bind(end)
        .bind(key_count)
        .bind(body)
        .bind(at)
        .fetch_one(&mut *tx)
        .await?;
        let ids = rows
            .iter()
            .map(|r| r.try_get::<i64, _>("id"))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        for chunk in ids.chunks(500) {
            let list = list_placeholders(self.backend(), chunk.len()).join(",");
            let sql = format!("UPDATE proximity_keys SET batch_id = {id} WHERE id IN ({list})");
            chunk
                .iter()
                .fold(sqlx::query(AssertSqlSafe(sql)), |q, k| q.bind(*k))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some(ExportBatch {
            id,
            start,
            end,
            keys: key_count,
        }))
    }

    /// The published batches, oldest first.
    pub async fn proximity_exports(&self) -> Result<Vec<ExportBatch>> {
        let rows = sqlx::query(
            "SELECT id, start_at, end_at, key_count FROM proximity_exports ORDER BY id",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ExportBatch {
                    id: r.try_get("id")?,
                    start: r.try_get("start_at")?,
                    end: r.try_get("end_at")?,
                    keys: r.try_get("key_count")?,
                })
            })
            .collect()
    }

    /// A batch's zip as published.
    pub async fn proximity_export_body(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(
            sqlx::query_scalar("SELECT body FROM proximity_exports WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?,
        )
    }

    /// Retention at `at`: keys whose interval ended `retention_days` ago or earlier, the batches left with no
    /// key, and codes past their expiry.
    pub async fn purge_proximity(&self, at: i64, retention_days: u32) -> Result<ProximityPurged> {
        let oldest_end = EnIntervalNumber::from_unix(at - i64::from(retention_days) * 86_400);
        let mut tx = self.begin_write().await?;
        let keys =
            sqlx::query("DELETE FROM proximity_keys WHERE rolling_start + rolling_period <= $1")
                .bind(i64::from(oldest_end.0))
                .execute(&mut *tx)
                .await?
                .rows_affected();
        let batches = sqlx::query(
            "DELETE FROM proximity_exports WHERE NOT EXISTS \
             (SELECT 1 FROM proximity_keys k WHERE k.batch_id = proximity_exports.id)",
        )
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let codes = sqlx::query("DELETE FROM proximity_codes WHERE expires_at <= $1")
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(ProximityPurged {
            keys,
            batches,
            codes,
        })
    }

    /// The counts of `units` from `since` on, newest day first, then by unit.
    pub async fn proximity_counts(
        &self,
        units: &[String],
        since: NaiveDate,
    ) -> Result<Vec<ProximityCount>> {
        let rows = self
            .fetch_in(
                &format!(
                    "SELECT unit_code, day, codes_issued, uploads, keys_uploaded FROM proximity_counts \
                     WHERE unit_code IN ({{in}}) AND day >= '{since}'"
                ),
                units,
            )
            .await?;
        let mut out = rows
            .iter()
            .map(|r| {
                let unit: String = r.try_get("unit_code")?;
                let day: String = r.try_get("day")?;
                let bad =
                    |e: String| StoreError::Corrupt(format!("proximity count {unit} {day}: {e}"));
                Ok(ProximityCount {
                    unit_code: UnitCode::parse(&unit).map_err(bad)?,
                    day: day
                        .parse()
                        .map_err(|e: chrono::ParseError| bad(e.to_string()))?,
                    codes_issued: r.try_get("codes_issued")?,
                    uploads: r.try_get("uploads")?,
                    keys_uploaded: r.try_get("keys_uploaded")?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        out.sort_by(|a, b| {
            b.day
                .cmp(&a.day)
                .then_with(|| a.unit_code.cmp(&b.unit_code))
        });
        Ok(out)
    }
}
