//! A health officer's view of their unit: the day's counts, and the case list with each person's name,
//! age and phone from the registry. Reads only; callers pass the communes of the caller's jurisdiction.

use crate::cases::{CaseRecord, case_from_row};
use crate::db::{Result, Store, list_placeholders};
use kiemdich_domain::person::fold;
use kiemdich_domain::{CaseClass, CitizenId, FullName, Phone};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::HashMap;

/// Counts of one jurisdiction: active cases by class, and passes and scans since a moment (the local day's
/// start).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UnitCounts {
    pub active: HashMap<CaseClass, i64>,
    pub passes_issued: i64,
    pub scans: i64,
}

/// Which cases a list shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseFilter {
    pub class: Option<CaseClass>,
    /// Ended cases too (released, died).
    pub include_ended: bool,
    /// A citizen id, or part of a name (case and diacritics ignored).
    pub search: Option<CaseSearch>,
    pub limit: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseSearch {
    Citizen(CitizenId),
    Name(String),
}

impl CaseSearch {
    /// A citizen id if the text is one, else a name to look for.
    pub fn parse(text: &str) -> Option<CaseSearch> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        Some(match CitizenId::parse(text) {
            Ok(id) => CaseSearch::Citizen(id),
            Err(_) => CaseSearch::Name(fold(text).replace(['%', '_'], "")),
        })
    }
}

/// A person as the registry knows them, for staff who may see them (the caller audits the read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonSummary {
    pub full_name: FullName,
    pub date_of_birth: chrono::NaiveDate,
    pub phone: Option<Phone>,
    pub address: String,
}

impl From<&kiemdich_domain::RegistryRecord> for PersonSummary {
    fn from(r: &kiemdich_domain::RegistryRecord) -> PersonSummary {
        PersonSummary {
            full_name: r.full_name.clone(),
            date_of_birth: r.date_of_birth,
            phone: r.phone.clone(),
            address: r.address.clone(),
        }
    }
}

/// A case with its person, when the registry knows them.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRow {
    pub case: CaseRecord,
    pub person: Option<PersonSummary>,
}

fn person_from_row(r: &AnyRow) -> Result<Option<PersonSummary>> {
    let Some(name) = r.try_get::<Option<String>, _>("full_name")? else {
        return Ok(None);
    };
    let corrupt = |what: &str, e: String| crate::StoreError::Failed(format!("stored {what}: {e}"));
    let dob: String = r.try_get("date_of_birth")?;
    Ok(Some(PersonSummary {
        full_name: FullName::parse(&name).map_err(|e| corrupt("name", e))?,
        date_of_birth: dob
            .parse()
            .map_err(|e: chrono::ParseError| corrupt("birth date", e.to_string()))?,
        phone: r
            .try_get::<Option<String>, _>("phone")?
            .map(|p| Phone::parse(&p).map_err(|e| corrupt("phone", e)))
            .transpose()?,
        address: r
            .try_get::<Option<String>, _>("address")?
            .unwrap_or_default(),
    }))
}

impl Store {
    /// The counts of `communes`: active cases by class, passes issued to their residents and scans at their
    /// places since `since`.
    pub async fn unit_counts(&self, communes: &[String], since: i64) -> Result<UnitCounts> {
        let mut counts = UnitCounts::default();
        let classes = self
            .fetch_in(
                "SELECT classification, COUNT(*) AS n FROM cases WHERE active = 1 AND commune_code IN ({in}) GROUP BY classification",
                communes,
            )
            .await?;
        for r in &classes {
            let class: String = r.try_get("classification")?;
            let class = CaseClass::parse(&class).map_err(crate::StoreError::Failed)?;
            *counts.active.entry(class).or_default() += r.try_get::<i64, _>("n")?;
        }
        let sum = |rows: Vec<AnyRow>| -> Result<i64> {
            rows.iter().map(|r| Ok(r.try_get::<i64, _>("n")?)).sum()
        };
        counts.passes_issued = sum(
            self.fetch_in(
                &format!("SELECT COUNT(*) AS n FROM passes p JOIN residents r ON r.citizen_id = p.citizen_id WHERE p.issued_at >= {since} AND r.commune_code IN ({{in}})"),
                communes,
            )
            .await?,
        )?;
        counts.scans = sum(
            self.fetch_in(
                &format!("SELECT COUNT(*) AS n FROM presence_events e JOIN locations l ON l.id = e.location_id WHERE e.at >= {since} AND l.commune_code IN ({{in}})"),
                communes,
            )
            .await?,
        )?;
        Ok(counts)
    }

    /// The person's active case, if any.
    pub async fn active_case_of(&self, citizen: &CitizenId) -> Result<Option<CaseRecord>> {
        sqlx::query("SELECT * FROM cases WHERE active = 1 AND citizen_id = $1")
            .bind(citizen.as_str().to_owned())
            .fetch_optional(&self.read)
            .await?
            .as_ref()
            .map(case_from_row)
            .transpose()
    }

    /// Cases of `communes` by `filter`, newest first, each with its person from the registry.
    pub async fn case_list(
        &self,
        communes: &[String],
        filter: &CaseFilter,
    ) -> Result<Vec<CaseRow>> {
        let mut out = Vec::new();
        for chunk in communes.chunks(500) {
            out.extend(self.case_list_chunk(chunk, filter).await?);
        }
        out.sort_unstable_by_key(|row| std::cmp::Reverse(row.case.id));
        out.truncate(usize::try_from(filter.limit).unwrap_or(0));
        Ok(out)
    }

    async fn case_list_chunk(
        &self,
        communes: &[String],
        filter: &CaseFilter,
    ) -> Result<Vec<CaseRow>> {
        let p = list_placeholders(self.backend(), communes.len() + 1);
        let mut sql = format!(
            "SELECT c.*, r.full_name, r.date_of_birth, r.phone, r.address FROM cases c LEFT JOIN residents r ON r.citizen_id = c.citizen_id \
             WHERE c.commune_code IN ({})",
            p[..communes.len()].join(",")
        );
        // Codes from closed sets are written into the statement; the searched text is always bound.
        if let Some(class) = filter.class {
            sql.push_str(&format!(" AND c.classification = '{}'", class.as_str()));
        }
        if !filter.include_ended {
            sql.push_str(" AND c.active = 1");
        }
        let searched = match &filter.search {
            Some(CaseSearch::Citizen(id)) => {
                sql.push_str(&format!(" AND c.citizen_id = {}", p[communes.len()]));
                Some(id.as_str().to_owned())
            }
            Some(CaseSearch::Name(folded)) => {
                sql.push_str(&format!(" AND r.name_folded LIKE {}", p[communes.len()]));
                Some(format!("%{folded}%"))
            }
            None => None,
        };
        sql.push_str(&format!(" ORDER BY c.id DESC LIMIT {}", filter.limit));
        let q = communes
            .iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |q, c| q.bind(c.as_str()));
        let q = match searched {
            Some(s) => q.bind(s),
            None => q,
        };
        q.fetch_all(&self.read)
            .await?
            .iter()
            .map(|r| {
                Ok(CaseRow {
                    case: case_from_row(r)?,
                    person: person_from_row(r)?,
                })
            })
            .collect()
    }
}
