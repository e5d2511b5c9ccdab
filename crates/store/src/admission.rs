//! What admission by vaccination reads of the dose records: one [`VaccinationSummary`] per person (how many
//! doses and the latest date), the one place pass issuance and the online scan get it from. The `doses` table
//! belongs to the vaccination records (migration 0010, `vaccination.rs`); this module only counts them.

use crate::db::{Result, Store, StoreError};
use chrono::NaiveDate;
use kiemdich_domain::VaccinationSummary;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::HashMap;

/// The summary a row's `doses` (a count) and `last_dose` (the latest date, text) columns give; `who` names the
/// person in an error.
pub(crate) fn summary_from_row(r: &AnyRow, who: &str) -> Result<VaccinationSummary> {
    let last = r
        .try_get::<Option<String>, _>("last_dose")?
        .map(|d| {
            NaiveDate::parse_from_str(&d, "%Y-%m-%d")
                .map_err(|e| StoreError::Corrupt(format!("dose of {who}: date {d:?}: {e}")))
        })
        .transpose()?;
    Ok(VaccinationSummary::new(r.try_get("doses")?, last))
}

impl Store {
    /// The vaccination summary of each of `citizen_ids` that has a dose recorded, in one query (per 500 people);
    /// a person with no dose is absent from the map ([`VaccinationSummary::NONE`]).
    pub async fn vaccination_summaries(
        &self,
        citizen_ids: &[&str],
    ) -> Result<HashMap<String, VaccinationSummary>> {
        let ids: Vec<String> = citizen_ids.iter().map(|&s| s.to_owned()).collect();
        let rows = self
            .fetch_in(
                "SELECT citizen_id, COUNT(*) AS doses, MAX(date) AS last_dose FROM doses \
                 WHERE citizen_id IN ({in}) GROUP BY citizen_id",
                &ids,
            )
            .await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("citizen_id")?;
                let summary = summary_from_row(r, &id)?;
                Ok((id, summary))
            })
            .collect()
    }

    /// One person's vaccination summary; [`VaccinationSummary::NONE`] without a dose.
    pub async fn vaccination_summary(&self, citizen_id: &str) -> Result<VaccinationSummary> {
        Ok(self
            .vaccination_summaries(&[citizen_id])
            .await?
            .remove(citizen_id)
            .unwrap_or(VaccinationSummary::NONE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn one_query_sums_up_many_people_and_no_dose_is_none() {
        let dir = std::env::temp_dir().join(format!("kiemdich_admission_{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let store = Store::open_data_dir(&dir).await.unwrap();
        for (id, date) in [
            ("094090123456", "2021-07-01"),
            ("094090123456", "2021-09-12"),
            ("094185000123", "2021-10-02"),
        ] {
            sqlx::query(
                "INSERT INTO doses (citizen_id, product, dose_number, series_doses, date, country, source, \
                 recorded_by, recorded_at) VALUES ($1, 'EU/1/20/1528', 1, 2, $2, 'VN', 'entered', 'test', 0)",
            )
            .bind(id)
            .bind(date)
                .execute(&store.write)
                .await
                .unwrap();
        }
        let all = store
            .vaccination_summaries(&["094090123456", "094185000123", "094000000001"])
            .await
            .unwrap();
        let day = |s: &str| s.parse::<NaiveDate>().ok();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all["094090123456"],
            VaccinationSummary::new(2, day("2021-09-12"))
        );
        assert_eq!(
            store.vaccination_summary("094185000123").await.unwrap(),
            VaccinationSummary::new(1, day("2021-10-02"))
        );
        assert_eq!(
            store.vaccination_summary("094000000001").await.unwrap(),
            VaccinationSummary::NONE
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
