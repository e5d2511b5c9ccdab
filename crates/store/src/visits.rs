//! Visits: the stays that tracing works on. Admitted scans open a visit on entry and close it on exit, in the
//! same group commit as the scan; imports write whole visits. Every read is an index range: by location and
//! entry time, or by citizen and entry time, bounded by the longest stay allowed.

use crate::db::{
    AnyQuery, Backend, Result, Store, execute_counted, insert_statements, list_placeholders,
};
use kiemdich_domain::{Span, Visit};
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// Which column a range of visits is looked up by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VisitKey {
    Citizen,
    Location,
}

/// The citizen id as the number stored in `visits.citizen`.
pub fn citizen_number(id: &str) -> Option<i64> {
    (id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()))
        .then(|| id.parse().ok())
        .flatten()
}

/// The 12-digit citizen id of a stored number.
pub fn citizen_text(n: i64) -> String {
    format!("{n:012}")
}

fn visit_from_row(r: &sqlx::any::AnyRow) -> Result<Visit> {
    Ok(Visit {
        location_id: r.try_get("location_id")?,
        citizen: r.try_get("citizen")?,
        entered_at: r.try_get("entered_at")?,
        exited_at: r.try_get("exited_at")?,
    })
}

fn bind_visit<'q>(q: AnyQuery<'q>, v: &'q Visit) -> AnyQuery<'q> {
    q.bind(v.location_id)
        .bind(v.citizen)
        .bind(v.entered_at)
        .bind(v.exited_at)
}

/// Inserts visits, skipping any already stored (same citizen, entry time and place); returns how many are new.
pub(crate) async fn insert_visits(
    conn: &mut AnyConnection,
    backend: Backend,
    visits: &[Visit],
) -> Result<u64> {
    let statements = insert_statements(
        backend,
        "visits (location_id, citizen, entered_at, exited_at)",
        4,
        "ON CONFLICT (citizen, entered_at, location_id) DO NOTHING",
        visits,
        bind_visit,
    );
    execute_counted(conn, statements).await
}

/// An exit scan closes an open visit that began at most this long before it (the rules' longest stay).
pub(crate) const MAX_OPEN_STAY_SECS: i64 = 24 * 3600;

impl Store {
    /// Stores imported visits in one transaction; returns how many were new.
    pub async fn import_visits(&self, visits: &[Visit]) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = insert_visits(&mut tx, self.backend(), visits).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Visits that began inside any of `ranges`, each a key (a citizen number or a location id, by `by`), a
    /// span of entry times and the earliest exit that matters (visits that left before it are skipped inside the
    /// index; open visits are always returned): one statement per few hundred ranges, each an index seek.
    pub async fn visits_in(&self, by: VisitKey, ranges: &[(i64, Span, i64)]) -> Result<Vec<Visit>> {
        let column = match by {
            VisitKey::Citizen => "citizen",
            VisitKey::Location => "location_id",
        };
        let mut out: Vec<Visit> = Vec::new();
        for chunk in ranges.chunks(300) {
            let p = list_placeholders(self.backend(), chunk.len() * 4);
            let clauses: Vec<String> = p
                .chunks(4)
                .map(|c| {
                    format!(
                        "({column} = {} AND entered_at >= {} AND entered_at < {} AND (exited_at IS NULL OR exited_at > {}))",
                        c[0], c[1], c[2], c[3]
                    )
                })
                .collect();
            let sql = format!(
                "SELECT location_id, citizen, entered_at, exited_at FROM visits WHERE {}",
                clauses.join(" OR ")
            );
            let rows = chunk
                .iter()
                .fold(
                    sqlx::query(sqlx::AssertSqlSafe(sql)),
                    |q, (key, span, exit)| q.bind(*key).bind(span.from).bind(span.to).bind(*exit),
                )
                .fetch_all(&self.read)
                .await?;
            for r in &rows {
                out.push(visit_from_row(r)?);
            }
        }
        // Ranges of one key may overlap: each visit once.
        out.sort_unstable_by_key(|v| (v.location_id, v.entered_at, v.citizen));
        out.dedup();
        Ok(out)
    }

    /// For each of `visits` without an exit, the person's next entry anywhere within `horizon` seconds after it:
    /// what tells when they really left.
    pub async fn next_entries(
        &self,
        visits: &[Visit],
        horizon: i64,
    ) -> Result<HashMap<(i64, i64), i64>> {
        let open: Vec<&Visit> = visits.iter().filter(|v| v.exited_at.is_none()).collect();
        let ranges: Vec<(i64, Span, i64)> = open
            .iter()
            .map(|v| {
                let after = Span {
                    from: v.entered_at + 1,
                    to: v.entered_at + horizon + 1,
                };
                (v.citizen, after, i64::MIN)
            })
            .collect();
        let mut entries: HashMap<i64, Vec<i64>> = HashMap::new();
        for later in self.visits_in(VisitKey::Citizen, &ranges).await? {
            entries
                .entry(later.citizen)
                .or_default()
                .push(later.entered_at);
        }
        Ok(open
            .iter()
            .filter_map(|v| {
                let first = entries
                    .get(&v.citizen)?
                    .iter()
                    .filter(|&&t| t > v.entered_at && t <= v.entered_at + horizon)
                    .min()?;
                Some(((v.citizen, v.entered_at), *first))
            })
            .collect())
    }

    /// Each location's kind and dwell time, for turning visits into stays.
    pub async fn location_dwells(&self) -> Result<HashMap<i64, (String, i64)>> {
        let rows = sqlx::query("SELECT id, kind, dwell_minutes FROM locations")
            .fetch_all(&self.read)
            .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("id")?,
                    (r.try_get("kind")?, r.try_get("dwell_minutes")?),
                ))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    /// SQLite's triggers close a visit within the same longest stay as PostgreSQL's scan statement.
    #[test]
    fn the_triggers_close_visits_within_the_longest_stay() {
        let triggers = include_str!("../migrations/sqlite/0023_visit_triggers.sql");
        let within = format!("NEW.at - {}", super::MAX_OPEN_STAY_SECS);
        assert!(triggers.contains(&within), "{within} not in the triggers");
    }
}
