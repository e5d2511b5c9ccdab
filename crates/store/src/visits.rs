//! Visits: the stays that tracing works on. Admitted scans open a visit on entry and close it on exit, in the
//! same group commit as the scan; imports write whole visits. Every read is an index range: by location and
//! entry time, or by citizen and entry time, bounded by the longest stay allowed.

use crate::db::{
    AnyQuery, Backend, Result, Store, execute_counted, insert_statements, list_placeholders,
};
use crate::presence::PresenceEvent;
use kiemdich_domain::{Decision, Direction, Span, Visit};
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
    let counted = execute_counted(conn, statements).await?;
    Ok(counted.iter().sum())
}

/// An exit scan closes an open visit that began at most this long before it (the rules' longest stay).
pub(crate) const MAX_OPEN_STAY_SECS: i64 = 24 * 3600;

/// Opens a visit for each admitted entry and closes the person's open visit there for each admitted exit: for a
/// group of scans on PostgreSQL that does not fit one statement (SQLite's triggers on the log do it there, and
/// PostgreSQL's one-statement groups in their CTEs).
pub(crate) async fn record_from_scans(
    conn: &mut AnyConnection,
    events: &[&PresenceEvent],
) -> Result<()> {
    let admitted = events.iter().filter(|e| e.decision == Decision::Admit);
    let mut entries = Vec::new();
    let mut exits: Vec<(i64, i64, i64)> = Vec::new();
    for e in admitted {
        let Some(citizen) = e.citizen_id.as_deref().and_then(citizen_number) else {
            continue;
        };
        if e.direction == Direction::In {
            entries.push(Visit {
                location_id: e.location_id,
                citizen,
                entered_at: e.at,
                exited_at: None,
            });
        } else {
            exits.push((citizen, e.location_id, e.at));
        }
    }
    close_visits(conn, &exits).await?;
    insert_visits(conn, Backend::Postgres, &entries).await?;
    Ok(())
}

/// Closes, for each exit (citizen, place, time), the person's latest visit to the place still open at that time.
/// Exits of different people or places share one statement per few hundred; a second exit of the same person
/// from the same place in one group waits for the next statement, so that it closes the visit before.
async fn close_visits(conn: &mut AnyConnection, exits: &[(i64, i64, i64)]) -> Result<()> {
    let mut rounds: Vec<Vec<(i64, i64, i64)>> = Vec::new();
    let mut round_of: HashMap<(i64, i64), usize> = HashMap::new();
    for &(citizen, place, at) in exits {
        let round = round_of.entry((citizen, place)).or_insert(0);
        if rounds.len() <= *round {
            rounds.push(Vec::new());
        }
        rounds[*round].push((citizen, place, at));
        *round += 1;
    }
    for round in &rounds {
        for chunk in round.chunks(300) {
            close_visits_once(conn, chunk).await?;
        }
    }
    Ok(())
}

/// One statement closing the visits of `exits`, each of a different (person, place). By the full unique key
/// (citizen, entry, place) and the entry range, not by id: on PostgreSQL visits are partitioned by entry day and
/// the range leaves only a day or two to look in. The same subquery as the one-statement groups' `closed` CTE
/// (`insert_scans_and_visits` in presence.rs).
async fn close_visits_once(conn: &mut AnyConnection, exits: &[(i64, i64, i64)]) -> Result<()> {
    let sql = format!(
        "WITH x (citizen, location_id, at, since) AS (VALUES {}) \
         UPDATE visits SET exited_at = x.at FROM x WHERE visits.citizen = x.citizen AND visits.location_id = x.location_id \
         AND visits.entered_at <= x.at AND visits.entered_at > x.since \
         AND visits.entered_at = (SELECT v.entered_at FROM visits v WHERE v.citizen = x.citizen AND v.location_id = x.location_id \
         AND v.exited_at IS NULL AND v.entered_at <= x.at AND v.entered_at > x.since ORDER BY v.entered_at DESC LIMIT 1)",
        crate::db::values_placeholders(Backend::Postgres, exits.len(), 4)
    );
    exits
        .iter()
        .fold(
            sqlx::query(sqlx::AssertSqlSafe(sql)),
            |q, &(citizen, place, at)| {
                q.bind(citizen)
                    .bind(place)
                    .bind(at)
                    .bind(at - MAX_OPEN_STAY_SECS)
            },
        )
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl Store {
    /// Stores imported visits in one transaction; returns how many were new.
    pub async fn import_visits(&self, visits: &[Visit]) -> Result<u64> {
        let mut tx = self.write.begin().await?;
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
    /// SQLite's triggers close a visit within the same longest stay as the PostgreSQL statement and the
    /// transaction path.
    #[test]
    fn the_triggers_close_visits_within_the_longest_stay() {
        let triggers = include_str!("../migrations/sqlite/0023_visit_triggers.sql");
        let within = format!("NEW.at - {}", super::MAX_OPEN_STAY_SECS);
        assert!(triggers.contains(&within), "{within} not in the triggers");
    }
}
