//! What a declaration needs to know about the people it declares, read in one statement: their registry
//! record, an active case, a rapid antigen result awaiting confirmation and their doses. Read apart they were
//! four round trips before a declaration could join its group commit; on PostgreSQL the round trips, not the
//! queries, were most of the database's CPU. So on PostgreSQL the declarations being checked at the same time
//! are read together too, in one statement (a read group, like the group commit of their writes).

use crate::admission::summary_from_row;
use crate::db::{Backend, Result, Store, StoreError, list_placeholders};
use crate::group::GroupCommit;
use crate::registry::resident_from_row;
use kiemdich_domain::{
    CaseClass, CitizenId, RegistryRecord, TestResult, TestType, VaccinationSummary,
};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// One declared person as the records stand.
#[derive(Debug, Clone, PartialEq)]
pub struct Declarant {
    /// The population registry's record, when the number is in it.
    pub record: Option<RegistryRecord>,
    /// The classification of their active case: an F0 cannot declare themselves green.
    pub case: Option<CaseClass>,
    /// A positive rapid antigen test not yet followed by a PCR result (the rules give its colour; 2021: orange).
    pub awaiting_confirmation: bool,
    pub vaccination: VaccinationSummary,
}

impl Declarant {
    /// Someone the records know nothing about.
    pub const UNKNOWN: Declarant = Declarant {
        record: None,
        case: None,
        awaiting_confirmation: false,
        vaccination: VaccinationSummary::NONE,
    };
}

/// The statement for `n` people: each one asked for, their registry row if any, and what the subqueries find
/// (the latest results' times, compared in Rust).
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

/// The most people read in one statement by the read group.
const MAX_READ: usize = 256;

pub(crate) type DeclarantReads = GroupCommit<CitizenId, Declarant>;

/// The read group (PostgreSQL): each declaration queues its people, and everyone queued while the previous read
/// ran is read in the next, on a connection of its own.
pub(crate) fn spawn_reads(pool: AnyPool, backend: Backend) -> DeclarantReads {
    GroupCommit::spawn(MAX_READ, move |ids: Vec<CitizenId>| {
        let pool = pool.clone();
        async move {
            let unique: Vec<CitizenId> = ids
                .iter()
                .copied()
                .collect::<HashSet<_>>()
                .into_iter()
                .collect();
            let found = read_declarants(&pool, backend, &unique).await?;
            Ok(ids
                .iter()
                .map(|id| Ok(found.get(id).cloned().unwrap_or(Declarant::UNKNOWN)))
                .collect())
        }
    })
}

impl Store {
    /// The records of each declared person: everyone asked for is in the answer, [`Declarant::UNKNOWN`] when
    /// nothing is recorded.
    pub async fn declarants(&self, ids: &[CitizenId]) -> Result<HashMap<CitizenId, Declarant>> {
        match &self.declarant_reads {
            Some(reads) => {
                let found = reads.submit_many(ids.to_vec()).await?;
                ids.iter()
                    .copied()
                    .zip(found)
                    .map(|(id, d)| Ok((id, d?)))
                    .collect()
            }
            None => read_declarants(&self.read, self.backend(), ids).await,
        }
    }
}

/// One statement for `ids`, padded with the last one to a power of two so that PostgreSQL prepares a handful of
/// shapes, not one per count.
async fn read_declarants(
    pool: &AnyPool,
    backend: Backend,
    ids: &[CitizenId],
) -> Result<HashMap<CitizenId, Declarant>> {
    let mut out = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(MAX_READ) {
        let Some(last) = chunk.last() else { continue };
        let n = chunk.len().next_power_of_two();
        let padded = chunk
            .iter()
            .chain(std::iter::repeat_n(last, n - chunk.len()));
        let query = padded.fold(
            sqlx::query(AssertSqlSafe(declarants_sql(backend, n))),
            |q, id| q.bind(id.as_str().to_owned()),
        );
        for r in query.fetch_all(pool).await? {
            let declared: String = r.try_get("declared")?;
            let id = CitizenId::parse(&declared)
                .map_err(|e| StoreError::Corrupt(format!("declared {declared:?}: {e}")))?;
            out.insert(id, declarant_from_row(&r, &declared)?);
        }
    }
    Ok(out)
}

fn declarant_from_row(r: &AnyRow, declared: &str) -> Result<Declarant> {
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
    Ok(Declarant {
        record,
        case,
        awaiting_confirmation: antigen.is_some_and(|a| pcr.is_none_or(|p| p < a)),
        vaccination: summary_from_row(r, declared)?,
    })
}
