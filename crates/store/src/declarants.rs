//! What a declaration needs to know about the people it declares, read in one statement: their registry
//! record, an active case, a rapid antigen result awaiting confirmation and their doses. Read apart they were
//! four round trips before a declaration could join its group commit; on PostgreSQL the round trips, not the
//! queries, were most of the database's CPU.

use crate::db::{Backend, Result, Store, StoreError, list_placeholders};
use crate::registry::resident_from_row;
use kiemdich_domain::{
    CaseClass, CitizenId, HealthStatus, RegistryRecord, Rules, TestResult, TestType,
    VaccinationSummary,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

/// One declared person as the records stand.
#[derive(Debug, Clone, PartialEq)]
pub struct Declarant {
    /// The population registry's record, when the number is in it.
    pub record: Option<RegistryRecord>,
    /// The classification of their active case: an F0 cannot declare themselves green.
    pub case: Option<CaseClass>,
    /// The colour a positive rapid antigen test not yet followed by a PCR result gives (2021: orange).
    pub result: Option<HealthStatus>,
    pub vaccination: VaccinationSummary,
}

impl Declarant {
    /// Someone the records know nothing about.
    pub const UNKNOWN: Declarant = Declarant {
        record: None,
        case: None,
        result: None,
        vaccination: VaccinationSummary::NONE,
    };
}

/// The columns the subqueries add to each registry row (the latest results are compared in Rust).
fn declarants_sql(backend: Backend, n: usize) -> String {
    let values: Vec<String> = list_placeholders(backend, n)
        .into_iter()
        .map(|p| format!("({p})"))
        .collect();
    let latest = |test: TestType, results: &[TestResult]| {
        let results: Vec<String> = results
            .iter()
            .map(|r| format!("'{}'", r.as_str()))
            .collect();
        format!(
            "(SELECT MAX(t.tested_at) FROM samples s JOIN results t ON t.sample_id = s.id \
             WHERE s.citizen_id = v.column1 AND s.test_type = '{}' AND t.result IN ({}))",
            test.as_str(),
            results.join(",")
        )
    };
    format!(
        "SELECT v.column1 AS declared, r.*, \
         (SELECT c.classification FROM cases c WHERE c.active = 1 AND c.citizen_id = v.column1) AS case_class, \
         (SELECT COUNT(*) FROM doses d WHERE d.citizen_id = v.column1) AS doses, \
         (SELECT MAX(d.date) FROM doses d WHERE d.citizen_id = v.column1) AS last_dose, \
         {} AS antigen_at, {} AS pcr_at \
         FROM (VALUES {}) v LEFT JOIN residents r ON r.citizen_id = v.column1",
        latest(TestType::RapidAntigen, &[TestResult::Positive]),
        latest(TestType::Pcr, &[TestResult::Positive, TestResult::Negative]),
        values.join(",")
    )
}

impl Store {
    /// The records of each declared person (at most a declaration's people, one statement): everyone asked
    /// for is in the answer, [`Declarant::UNKNOWN`] when nothing is recorded.
    pub async fn declarants(
        &self,
        ids: &[CitizenId],
        rules: &Rules,
    ) -> Result<HashMap<CitizenId, Declarant>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let query = ids.iter().fold(
            sqlx::query(AssertSqlSafe(declarants_sql(self.backend(), ids.len()))),
            |q, id| q.bind(id.as_str().to_owned()),
        );
        let rows = query.fetch_all(&self.read).await?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get("declared")?;
                let id = CitizenId::parse(&id)
                    .map_err(|e| StoreError::Corrupt(format!("declared {id:?}: {e}")))?;
                Ok((id, declarant_from_row(r, rules)?))
            })
            .collect()
    }
}

fn declarant_from_row(r: &AnyRow, rules: &Rules) -> Result<Declarant> {
    let record = match r.try_get::<Option<String>, _>("citizen_id")? {
        Some(_) => Some(resident_from_row(r)?),
        None => None,
    };
    let case = r
        .try_get::<Option<String>, _>("case_class")?
        .map(|c| CaseClass::parse(&c).map_err(StoreError::Corrupt))
        .transpose()?;
    let antigen: Option<i64> = r.try_get("antigen_at")?;
    let pcr: Option<i64> = r.try_get("pcr_at")?;
    let awaiting = antigen.is_some_and(|a| pcr.is_none_or(|p| p < a));
    let last_dose = r
        .try_get::<Option<String>, _>("last_dose")?
        .map(|d| {
            d.parse()
                .map_err(|e| StoreError::Corrupt(format!("dose date {d:?}: {e}")))
        })
        .transpose()?;
    Ok(Declarant {
        record,
        case,
        result: awaiting.then_some(rules.testing.rapid_antigen_positive.status),
        vaccination: VaccinationSummary::new(r.try_get("doses")?, last_dose),
    })
}
