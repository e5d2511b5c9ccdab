//! Administrative units and the population registry.

use crate::db::{Result, Store, StoreError, values_placeholders};
use kiemdich_domain::person::fold;
use kiemdich_domain::{
    AdminUnit, CitizenId, FullName, HouseholdId, Phone, RegistryRecord, Sex, UnitCode,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

/// What an upsert did: rows that were new or changed, and rows identical to what was stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub written: u64,
    pub unchanged: u64,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, o: UpsertCounts) {
        self.written += o.written;
        self.unchanged += o.unchanged;
    }
}

const RESIDENT_COLS: &str = "citizen_id, full_name, name_folded, date_of_birth, sex, commune_code, address, phone, household_id";
/// Rows per INSERT statement: few enough to stay under both backends' parameter limits.
const BATCH_ROWS: usize = 500;

fn bad_row(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Invalid(format!("stored {what} is invalid: {e}"))
}

pub(crate) fn resident_from_row(r: &AnyRow) -> Result<RegistryRecord> {
    let text = |c: &str| r.try_get::<String, _>(c);
    Ok(RegistryRecord {
        citizen_id: CitizenId::parse(&text("citizen_id")?).map_err(|e| bad_row("citizen id", e))?,
        full_name: FullName::parse(&text("full_name")?).map_err(|e| bad_row("name", e))?,
        date_of_birth: text("date_of_birth")?
            .parse()
            .map_err(|e| bad_row("birth date", e))?,
        sex: Sex::parse(&text("sex")?).map_err(|e| bad_row("sex", e))?,
        commune_code: UnitCode::parse(&text("commune_code")?).map_err(|e| bad_row("commune", e))?,
        address: text("address")?,
        phone: r
            .try_get::<Option<String>, _>("phone")?
            .map(|p| Phone::parse(&p))
            .transpose()
            .map_err(|e| bad_row("phone", e))?,
        household_id: r
            .try_get::<Option<String>, _>("household_id")?
            .map(|h| HouseholdId::parse(&h))
            .transpose()
            .map_err(|e| bad_row("household", e))?,
    })
}

impl Store {
    /// Inserts or updates units; re-importing the same list changes nothing.
    pub async fn upsert_units(&self, units: &[AdminUnit]) -> Result<UpsertCounts> {
        let mut tx = self.begin_write().await?;
        let mut counts = UpsertCounts::default();
        for u in units {
            let done = sqlx::query(
                "INSERT INTO units (code, name, level, parent_code, valid_from, valid_to) VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent_code = excluded.parent_code, \
                 valid_from = excluded.valid_from, valid_to = excluded.valid_to \
                 WHERE (units.name, units.level, units.parent_code, units.valid_from, units.valid_to) IS DISTINCT FROM \
                 (excluded.name, excluded.level, excluded.parent_code, excluded.valid_from, excluded.valid_to)",
            )
            .bind(u.code.as_str().to_owned())
            .bind(u.name.clone())
            .bind(u.level.as_str().to_owned())
            .bind(u.parent_code.as_ref().map(|p| p.as_str().to_owned()))
            .bind(u.valid_from.map(|d| d.to_string()))
            .bind(u.valid_to.map(|d| d.to_string()))
            .execute(&mut *tx)
            .await?;
            counts += UpsertCounts {
                written: done.rows_affected(),
                unchanged: 1 - done.rows_affected(),
            };
        }
        tx.commit().await?;
        Ok(counts)
    }

    pub async fn units(&self) -> Result<Vec<AdminUnit>> {
        let rows = sqlx::query(
            "SELECT code, name, level, parent_code, valid_from, valid_to FROM units ORDER BY code",
        )
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let parent: Option<String> = r.try_get("parent_code")?;
                let level: String = r.try_get("level")?;
                let mut unit = AdminUnit::new(
                    &r.try_get::<String, _>("code")?,
                    &r.try_get::<String, _>("name")?,
                    &level,
                    parent.as_deref(),
                )
                .map_err(|e| bad_row("unit", e))?;
                let date = |c: &str| -> Result<_> {
                    r.try_get::<Option<String>, _>(c)?
                        .map(|d| d.parse().map_err(|e| bad_row("unit date", e)))
                        .transpose()
                };
                unit.valid_from = date("valid_from")?;
                unit.valid_to = date("valid_to")?;
                Ok(unit)
            })
            .collect()
    }

    /// Upserts registry rows in multi-row statements inside one transaction; identical rows are left alone,
    /// so re-importing a file writes nothing.
    pub async fn upsert_residents(&self, records: &[RegistryRecord]) -> Result<UpsertCounts> {
        let mut tx = self.begin_write().await?;
        let mut counts = UpsertCounts::default();
        for chunk in records.chunks(BATCH_ROWS) {
            let sql = format!(
                "INSERT INTO residents ({RESIDENT_COLS}) VALUES {} ON CONFLICT (citizen_id) DO UPDATE SET \
                 full_name = excluded.full_name, name_folded = excluded.name_folded, date_of_birth = excluded.date_of_birth, \
                 sex = excluded.sex, commune_code = excluded.commune_code, address = excluded.address, phone = excluded.phone, \
                 household_id = excluded.household_id \
                 WHERE (residents.full_name, residents.date_of_birth, residents.sex, residents.commune_code, residents.address, residents.phone, residents.household_id) \
                 IS DISTINCT FROM (excluded.full_name, excluded.date_of_birth, excluded.sex, excluded.commune_code, excluded.address, excluded.phone, excluded.household_id)",
                values_placeholders(self.backend(), chunk.len(), 9)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.citizen_id.as_str())
                    .bind(r.full_name.as_str())
                    .bind(r.full_name.folded())
                    .bind(r.date_of_birth.to_string())
                    .bind(r.sex.as_str())
                    .bind(r.commune_code.as_str())
                    .bind(r.address.as_str())
                    .bind(r.phone.as_ref().map(|p| p.as_str()))
                    .bind(r.household_id.as_ref().map(|h| h.as_str()));
            }
            let written = q.execute(&mut *tx).await?.rows_affected();
            counts += UpsertCounts {
                written,
                unchanged: chunk.len() as u64 - written,
            };
        }
        tx.commit().await?;
        Ok(counts)
    }

    /// The first `limit` citizen ids of the registry, in id order (for the demo).
    pub async fn citizen_ids(&self, limit: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT citizen_id FROM residents ORDER BY citizen_id LIMIT $1")
                .bind(limit)
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Which of `ids` are in the registry.
    pub async fn known_citizens(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashSet<String>> {
        Ok(self.reach_of(ids).await?.into_keys().collect())
    }

    /// The registry records of `ids` that it holds.
    pub async fn residents(&self, ids: &[String]) -> Result<Vec<RegistryRecord>> {
        self.fetch_in("SELECT * FROM residents WHERE citizen_id IN ({in})", ids)
            .await?
            .iter()
            .map(resident_from_row)
            .collect()
    }

    /// How to reach each of `ids` that is in the registry: home commune and phone, if any.
    pub async fn reach_of(
        &self,
        ids: &[String],
    ) -> Result<std::collections::HashMap<String, (String, Option<String>)>> {
        let rows = self
            .fetch_in(
                "SELECT citizen_id, commune_code, phone FROM residents WHERE citizen_id IN ({in})",
                ids,
            )
            .await?;
        rows.iter()
            .map(|r| {
                let phone: Option<String> = r.try_get("phone")?;
                Ok((
                    r.try_get("citizen_id")?,
                    (r.try_get("commune_code")?, phone.filter(|p| !p.is_empty())),
                ))
            })
            .collect()
    }

    pub async fn resident(&self, id: &CitizenId) -> Result<Option<RegistryRecord>> {
        let row = sqlx::query("SELECT * FROM residents WHERE citizen_id = $1")
            .bind(id.as_str().to_owned())
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(resident_from_row).transpose()
    }

    /// The people of `id`'s household in the registry, `id` included (alone when the registry records no
    /// household): whom a resident may declare for.
    pub async fn household_of(&self, id: &CitizenId) -> Result<Vec<RegistryRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM residents WHERE citizen_id = $1 OR household_id = \
             (SELECT household_id FROM residents WHERE citizen_id = $1 AND household_id IS NOT NULL) \
             ORDER BY date_of_birth, citizen_id",
        )
        .bind(id.as_str().to_owned())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(resident_from_row).collect()
    }

    /// Residents of the given communes whose folded name contains the folded query, for officers' searches.
    pub async fn search_residents(
        &self,
        communes: &[UnitCode],
        name: &str,
        limit: i64,
    ) -> Result<Vec<RegistryRecord>> {
        if communes.is_empty() {
            return Ok(Vec::new());
        }
        // The shared placeholder list: anonymous on SQLite, where a national IN list of numbered parameters
        // would bind in quadratic time.
        let p = crate::db::list_placeholders(self.backend(), communes.len() + 1);
        let sql = format!(
            "SELECT * FROM residents WHERE commune_code IN ({}) AND name_folded LIKE {} ORDER BY name_folded, citizen_id LIMIT {limit}",
            p[..communes.len()].join(","),
            p[communes.len()]
        );
        let pattern = format!("%{}%", fold(name).replace(['%', '_'], ""));
        let q = communes
            .iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |q, c| q.bind(c.as_str()));
        let q = q.bind(pattern);
        q.fetch_all(&self.read)
            .await?
            .iter()
            .map(resident_from_row)
            .collect()
    }

    pub async fn count_residents(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM residents")
            .fetch_one(&self.read)
            .await?)
    }
}
