//! The presence log's person index on SQLite, as sorted runs (migration 0027): what finds one person's events.
//!
//! A B-tree index on (citizen_id, at) costs each scan a page of its own in the commit's write-ahead log, since the
//! people of a group are scattered over the index: about one page a scan, half of a batch's commit. Here the scan
//! writer leaves the log's newest rows (the tail) unindexed, and once the tail holds [`RUN_ROWS`] it copies their
//! entries, sorted, into a new table of their own (a run of level 0): written in order, about a page per 150
//! entries. When a level holds [`FANOUT`] runs they are merged into one of the next level, up to [`TOP_LEVEL`],
//! so a read seeks a few dozen runs and scans the tail. Measured with `docs/experiments/wal_pages.py`: 0.9–1.1
//! pages a row for index inserts into a log of 1–5 million rows, 0.007 for a run and 0.013 for each merge.
//!
//! A run and its bookkeeping are written in one transaction, so a crash leaves either the run and the tail's
//! new start, or neither. PostgreSQL logs an index entry rather than its page and keeps its index.

use crate::db::Result;
use rusqlite::{Connection, Transaction, TransactionBehavior, params};
use sqlx::AnyConnection;

/// The tail's length that makes a run: a read by person scans at most this many rows (and a group).
const RUN_ROWS: u64 = 16_384;
/// Runs of one level merged into one of the next.
const FANOUT: i64 = 8;
/// Runs of this level are not merged further (about a million entries each from level 0's 16,384): a merge
/// holds the write lock while it runs, most of a second for a million entries, so larger ones would stall the
/// scans of a busy day. They go whole when the retention purge passes their newest event.
const TOP_LEVEL: i64 = 2;

/// The scan writer's side: counts the tail and makes runs.
#[derive(Default)]
pub(crate) struct PersonRuns {
    /// Rows of the log not yet in a run, as far as this writer knows (read once, then counted).
    tail: Option<u64>,
}

impl PersonRuns {
    /// Notes `stored` new rows of the log; once the tail holds [`RUN_ROWS`], makes it a run and merges what
    /// fills a level, in one transaction.
    pub fn grown(&mut self, conn: &mut Connection, stored: u64) -> Result<()> {
        let tail = match self.tail {
            Some(n) => n + stored,
            None => tail_rows(conn)?,
        };
        self.tail = Some(tail);
        if tail < RUN_ROWS {
            return Ok(());
        }
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        make_run(&tx)?;
        while merge_level(&tx)? {}
        tx.commit()?;
        self.tail = Some(0);
        Ok(())
    }
}

fn tail_rows(conn: &Connection) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM presence_events WHERE id > (SELECT upto FROM person_index)",
        [],
        |r| r.get(0),
    )?;
    Ok(n.unsigned_abs())
}

/// The table that holds run `id`'s entries.
pub(crate) fn run_table(id: i64) -> String {
    format!("person_run_{id}")
}

/// Registers a run of `level` and creates its table, empty.
fn new_run(tx: &Transaction<'_>, level: i64, newest_at: i64) -> Result<i64> {
    tx.execute(
        "INSERT INTO person_runs (level, entries, newest_at) VALUES (?1, 0, ?2)",
        params![level, newest_at],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute_batch(&format!(
        "CREATE TABLE {} (citizen_id TEXT NOT NULL, at BIGINT NOT NULL, event BIGINT NOT NULL, \
         PRIMARY KEY (citizen_id, at, event)) WITHOUT ROWID",
        run_table(id)
    ))?;
    Ok(id)
}

/// Fills run `id` with the entries `select` gives (citizen_id, at, event), in the index's order; returns how
/// many.
fn fill(tx: &Transaction<'_>, id: i64, select: &str) -> Result<u64> {
    let entries = tx.execute(
        &format!(
            "INSERT INTO {} (citizen_id, at, event) {select} ORDER BY 1, 2, 3",
            run_table(id)
        ),
        [],
    )?;
    tx.execute(
        "UPDATE person_runs SET entries = ?1 WHERE id = ?2",
        params![i64::try_from(entries).unwrap_or(i64::MAX), id],
    )?;
    Ok(entries as u64)
}

/// The level of a run of `entries` made from a tail: the level whose merges make runs that large, so that the
/// log a database held before migration 0027 (its first tail) is never merged again.
fn level_of(entries: u64) -> i64 {
    let mut level = 0;
    let mut size = RUN_ROWS.saturating_mul(FANOUT.unsigned_abs());
    while level < TOP_LEVEL && entries >= size {
        level += 1;
        size = size.saturating_mul(FANOUT.unsigned_abs());
    }
    level
}

/// Makes the tail a run and moves the tail's start past it.
fn make_run(tx: &Transaction<'_>) -> Result<()> {
    let upto: i64 = tx.query_row("SELECT upto FROM person_index", [], |r| r.get(0))?;
    let (last, newest): (Option<i64>, Option<i64>) = tx.query_row(
        "SELECT MAX(id), MAX(at) FROM presence_events WHERE id > ?1",
        [upto],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(last), Some(newest)) = (last, newest) else {
        return Ok(());
    };
    let id = new_run(tx, 0, newest)?;
    let entries = fill(
        tx,
        id,
        &format!(
            "SELECT citizen_id, at, id FROM presence_events WHERE id > {upto} AND id <= {last} AND citizen_id IS NOT NULL"
        ),
    )?;
    tx.execute(
        "UPDATE person_runs SET level = ?1 WHERE id = ?2",
        params![level_of(entries), id],
    )?;
    tx.execute("UPDATE person_index SET upto = ?1", [last])?;
    Ok(())
}

/// Merges the oldest [`FANOUT`] runs of the lowest level below [`TOP_LEVEL`] that holds as many into one run of
/// the next level; false when no level is full.
fn merge_level(tx: &Transaction<'_>) -> Result<bool> {
    let level: Option<i64> = tx
        .query_row(
            "SELECT level FROM person_runs WHERE level < ?1 GROUP BY level HAVING COUNT(*) >= ?2 ORDER BY level LIMIT 1",
            params![TOP_LEVEL, FANOUT],
            |r| r.get(0),
        )
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(e),
        })?;
    let Some(level) = level else {
        return Ok(false);
    };
    let runs: Vec<(i64, i64)> = tx
        .prepare("SELECT id, newest_at FROM person_runs WHERE level = ?1 ORDER BY id LIMIT ?2")?
        .query_map(params![level, FANOUT], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let newest = runs.iter().map(|&(_, at)| at).max().unwrap_or(0);
    let merged = new_run(tx, level + 1, newest)?;
    let union: Vec<String> = runs
        .iter()
        .map(|&(id, _)| format!("SELECT citizen_id, at, event FROM {}", run_table(id)))
        .collect();
    fill(tx, merged, &union.join(" UNION ALL "))?;
    for (id, _) in runs {
        drop_run(tx, id)?;
    }
    Ok(true)
}

fn drop_run(tx: &Connection, id: i64) -> Result<()> {
    tx.execute_batch(&format!("DROP TABLE {}", run_table(id)))?;
    tx.execute("DELETE FROM person_runs WHERE id = ?1", [id])?;
    Ok(())
}

/// A person's events since `$2`, newest first, at most `$3` (`$1` the citizen id): from the runs `runs`, whose
/// entries the event rows must still match (an id freed by the purge may be reused), and from the tail after
/// `upto`. The two parts are disjoint by id.
pub(crate) fn person_events_sql(cols: &str, runs: &[i64], upto: i64) -> String {
    let tail = format!(
        "SELECT {cols} FROM presence_events WHERE id > {upto} AND citizen_id = $1 AND at >= $2"
    );
    if runs.is_empty() {
        return format!("{tail} ORDER BY at DESC, id LIMIT $3");
    }
    let entries: Vec<String> = runs
        .iter()
        .map(|&id| {
            format!(
                "SELECT event FROM {} WHERE citizen_id = $1 AND at >= $2",
                run_table(id)
            )
        })
        .collect();
    format!(
        "SELECT {cols} FROM presence_events WHERE id IN ({}) AND id <= {upto} AND citizen_id = $1 AND at >= $2 \
         UNION ALL {tail} ORDER BY at DESC, id LIMIT $3",
        entries.join(" UNION ALL ")
    )
}

/// The runs and the tail's start, read in the caller's transaction (one snapshot with the read that uses them).
pub(crate) async fn current(conn: &mut AnyConnection) -> Result<(Vec<i64>, i64)> {
    let runs = sqlx::query_scalar("SELECT id FROM person_runs ORDER BY id")
        .fetch_all(&mut *conn)
        .await?;
    let upto = sqlx::query_scalar("SELECT upto FROM person_index")
        .fetch_one(&mut *conn)
        .await?;
    Ok((runs, upto))
}

/// The retention purge's part, in its transaction, after the events before `before` are deleted: runs whose
/// newest event is older go whole; and if the newest events went too, the tail starts again at the newest left,
/// for SQLite gives the next event the id after it.
pub(crate) async fn purge(conn: &mut AnyConnection, before: i64) -> Result<()> {
    let old: Vec<i64> = sqlx::query_scalar("SELECT id FROM person_runs WHERE newest_at < $1")
        .bind(before)
        .fetch_all(&mut *conn)
        .await?;
    for id in old {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP TABLE {}", run_table(id))))
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM person_runs WHERE id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query(
        "UPDATE person_index SET upto = MIN(upto, (SELECT COALESCE(MAX(id), 0) FROM presence_events))",
    )
    .execute(&mut *conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_takes_the_level_whose_merges_make_runs_its_size() {
        assert_eq!(level_of(16_384), 0);
        assert_eq!(level_of(8 * 16_384 - 1), 0);
        assert_eq!(level_of(8 * 16_384), 1);
        // A log of ten million rows from before the runs is one run, never merged again.
        assert_eq!(level_of(10_000_000), TOP_LEVEL);
    }
}
