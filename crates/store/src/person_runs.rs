//! The presence log's person index on SQLite, as sorted runs (migration 0027): what finds one person's events.
//!
//! A B-tree index on (citizen_id, at) costs each scan a page of its own in the commit's write-ahead log, since the
//! people of a group are scattered over the index: about one page a scan, half of a batch's commit. Here the scan
//! writer leaves the log's newest rows (the tail) unindexed, and once the tail holds [`RUN_ROWS`] it copies their
//! entries, sorted, into a new table of their own (a run of level 0): written in order, about a page per 150
//! entries. When a level holds [`FANOUT`] runs of one day they are merged into one of the next level, so a read
//! seeks a few runs a level for each day kept (more while a large merge is under way: one merge at a time), in
//! statements of at most [`RUNS_A_STATEMENT`] runs, and scans the tail. Measured with `docs/experiments/wal_pages.py`:
//! 0.9–1.1 pages a row for index inserts into a log of 1–5 million rows, 0.007 for a run and 0.013 for each
//! merge. A merge goes a [`SLICE`] at a time, one slice after each group commit, into a run that readers skip
//! until its last slice has replaced its inputs.
//!
//! A run and its bookkeeping are written in one transaction, so a crash leaves either the run and the tail's
//! new start, or neither; a merge cut short leaves its inputs whole, and its unfinished run is dropped when the
//! writer starts again. So these transactions need no sync of their own
//! ([`crate::scan_log::PersonIndexer`]): the next group's commit syncs them with it, and one lost in a crash is
//! made again from the tail. PostgreSQL logs an index entry rather than its page and keeps its index.

use crate::db::Result;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use sqlx::AnyConnection;

/// The tail's length that makes a run: a read by person scans at most this many rows (and a group).
const RUN_ROWS: u64 = 16_384;
/// Runs of one level merged into one of the next.
const FANOUT: i64 = 8;
/// The most events one run is made of: the log a database held before migration 0027 becomes runs of this many,
/// one after each group commit, each sorted in memory (a few MiB), not one sort of the whole log.
const MAX_RUN_ROWS: i64 = 262_144;
/// Runs merge only with runs whose newest event is of the same day (UTC), so that a run goes whole with the
/// retention purge at most about a day after its oldest events: a person's entries outlive their events by no
/// more than that. It also bounds the runs a read seeks to a few a level for each day kept.
const DAY: i64 = 86_400;
/// The most runs one read statement seeks: SQLite refuses a compound of more than 500 terms.
const RUNS_A_STATEMENT: usize = 400;
/// Entries a merge copies after one group commit, holding the write lock briefly: a whole merge of a million
/// entries held it for most of a second (batches of 100, p99: 640–875 ms under wrk; in slices 121–191 ms under
/// either generator). Single scans under wrk, p99: 19.5–29.7 ms with slices of 65,536, 14.3–19.5 ms with these.
const SLICE: i64 = 16_384;
/// The level of a run being merged into: readers and merges skip it until its last slice.
const BUILDING: i64 = -1;

/// The scan writer's side: counts the tail, makes runs and merges them.
#[derive(Default)]
pub(crate) struct PersonRuns {
    /// Whether this writer has dropped what a merge cut short by a restart left.
    started: bool,
    /// Rows of the log not yet in a run, as far as this writer knows (counted when unknown).
    tail: Option<u64>,
    merge: Option<Merge>,
}

/// A merge under way: its inputs, the run it fills and the last entry copied so far.
struct Merge {
    inputs: Vec<i64>,
    into: i64,
    level: i64,
    after: (String, i64, i64),
    entries: i64,
}

impl PersonRuns {
    /// Notes `stored` new rows of the log: copies the next slice of a merge under way, and once the tail holds
    /// [`RUN_ROWS`], makes a run of it and starts a merge if a level is full, each in a transaction of its own.
    /// After an error it starts afresh, as after a restart.
    pub fn grown(&mut self, conn: &mut Connection, stored: u64) -> Result<()> {
        let done = self.step(conn, stored);
        if done.is_err() {
            *self = PersonRuns::default();
        }
        done
    }

    fn step(&mut self, conn: &mut Connection, stored: u64) -> Result<()> {
        if !self.started {
            drop_unfinished(conn)?;
            self.started = true;
        }
        let tail = match self.tail {
            Some(n) => n + stored,
            None => tail_rows(conn)?,
        };
        self.tail = Some(tail);
        if let Some(mut merge) = self.merge.take() {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            if merge.slice(&tx)? {
                self.merge = start_merge(&tx)?;
            } else {
                self.merge = Some(merge);
            }
            tx.commit()?;
        }
        if tail >= RUN_ROWS {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            make_run(&tx)?;
            if self.merge.is_none() {
                self.merge = start_merge(&tx)?;
            }
            tx.commit()?;
            // A run takes at most MAX_RUN_ROWS: what is left of a longer tail is counted again.
            self.tail = None;
        }
        Ok(())
    }
}

impl Merge {
    /// Copies the next [`SLICE`] entries of the inputs, in order; at the end, puts the run in their place and
    /// returns true. `UNION` rather than `UNION ALL`: after the purge frees an event id and SQLite gives it to
    /// an event of the same person at the same second, two inputs may hold the same entry.
    fn slice(&mut self, tx: &Transaction<'_>) -> Result<bool> {
        let arms: Vec<String> = self
            .inputs
            .iter()
            .map(|&id| {
                format!(
                    "SELECT citizen_id, at, event FROM {} WHERE (citizen_id, at, event) > (?1, ?2, ?3)",
                    run_table(id)
                )
            })
            .collect();
        let (citizen, at, event) = &self.after;
        let copied = tx.execute(
            &format!(
                "INSERT INTO {} (citizen_id, at, event) {} ORDER BY 1, 2, 3 LIMIT {SLICE}",
                run_table(self.into),
                arms.join(" UNION ")
            ),
            params![citizen, at, event],
        )?;
        let copied = i64::try_from(copied).unwrap_or(i64::MAX);
        self.entries += copied;
        if copied == SLICE {
            self.after = tx.query_row(
                &format!(
                    "SELECT citizen_id, at, event FROM {} ORDER BY citizen_id DESC, at DESC, event DESC LIMIT 1",
                    run_table(self.into)
                ),
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            return Ok(false);
        }
        tx.execute(
            "UPDATE person_runs SET level = ?1, entries = ?2 WHERE id = ?3",
            params![self.level, self.entries, self.into],
        )?;
        for &id in &self.inputs {
            drop_run(tx, id)?;
        }
        Ok(true)
    }
}

/// Drops the runs a merge cut short (by a restart or an error) left unfinished; their inputs are whole.
fn drop_unfinished(conn: &mut Connection) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let unfinished: Vec<i64> = tx
        .prepare("SELECT id FROM person_runs WHERE level = ?1")?
        .query_map([BUILDING], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in unfinished {
        drop_run(&tx, id)?;
    }
    tx.commit()?;
    Ok(())
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

/// The level of a run of `entries` made from a tail: the level whose merges make runs that large.
fn level_of(entries: i64) -> i64 {
    let mut level = 0;
    let mut size = i64::try_from(RUN_ROWS)
        .unwrap_or(i64::MAX)
        .saturating_mul(FANOUT);
    while entries >= size {
        level += 1;
        size = size.saturating_mul(FANOUT);
    }
    level
}

/// Makes a run of the tail's first [`MAX_RUN_ROWS`] events at most, and moves the tail's start past them.
fn make_run(tx: &Transaction<'_>) -> Result<()> {
    let upto: i64 = tx.query_row("SELECT upto FROM person_index", [], |r| r.get(0))?;
    let (last, newest): (Option<i64>, Option<i64>) = tx.query_row(
        "SELECT MAX(id), MAX(at) FROM (SELECT id, at FROM presence_events WHERE id > ?1 ORDER BY id LIMIT ?2)",
        params![upto, MAX_RUN_ROWS],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let (Some(last), Some(newest)) = (last, newest) else {
        return Ok(());
    };
    let id = new_run(tx, 0, newest)?;
    let entries = tx.execute(
        &format!(
            "INSERT INTO {} (citizen_id, at, event) SELECT citizen_id, at, id FROM presence_events \
             WHERE id > ?1 AND id <= ?2 AND citizen_id IS NOT NULL ORDER BY 1, 2, 3",
            run_table(id)
        ),
        params![upto, last],
    )?;
    let entries = i64::try_from(entries).unwrap_or(i64::MAX);
    tx.execute(
        "UPDATE person_runs SET level = ?1, entries = ?2 WHERE id = ?3",
        params![level_of(entries), entries, id],
    )?;
    tx.execute("UPDATE person_index SET upto = ?1", [last])?;
    Ok(())
}

/// Starts merging the oldest [`FANOUT`] runs of one level and [`DAY`], the lowest level that holds as many,
/// into a run of the next level, registered as [`BUILDING`]; None when no level is full.
fn start_merge(tx: &Transaction<'_>) -> Result<Option<Merge>> {
    let full: Option<(i64, i64)> = tx
        .query_row(
            "SELECT level, newest_at / ?1 AS day FROM person_runs WHERE level >= 0 GROUP BY level, day \
             HAVING COUNT(*) >= ?2 ORDER BY level, day LIMIT 1",
            [DAY, FANOUT],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((level, day)) = full else {
        return Ok(None);
    };
    let runs: Vec<(i64, i64)> = tx
        .prepare(
            "SELECT id, newest_at FROM person_runs WHERE level = ?1 AND newest_at / ?2 = ?3 ORDER BY id LIMIT ?4",
        )?
        .query_map(params![level, DAY, day, FANOUT], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let newest = runs.iter().map(|&(_, at)| at).max().unwrap_or(0);
    Ok(Some(Merge {
        into: new_run(tx, BUILDING, newest)?,
        inputs: runs.into_iter().map(|(id, _)| id).collect(),
        level: level + 1,
        after: (String::new(), i64::MIN, i64::MIN),
        entries: 0,
    }))
}

fn drop_run(tx: &Connection, id: i64) -> Result<()> {
    tx.execute_batch(&drop_run_sql(id))?;
    Ok(())
}

/// Drops run `id`, its table and its row: the scan writer's and the purge's connections both run it.
fn drop_run_sql(id: i64) -> String {
    format!(
        "DROP TABLE {}; DELETE FROM person_runs WHERE id = {id};",
        run_table(id)
    )
}

/// The statements that read a person's events since `$2`, newest first, at most `$3` each (`$1` the citizen
/// id): the first from the tail after `upto`, then one per [`RUNS_A_STATEMENT`] of `runs`, whose entries the
/// event rows must still match (an id freed by the purge may be reused). The parts are disjoint by id; the
/// caller merges their answers. `NOT INDEXED` leaves SQLite the rowid alone: with the time index `presence_at`
/// it walked every event of the period, to find the tail or to deliver the rows in time order, instead of the
/// tail's id range (16 ms against 1 ms at 200,000 rows).
pub(crate) fn person_events_sql(cols: &str, runs: &[i64], upto: i64) -> Vec<String> {
    let tail = format!(
        "SELECT {cols} FROM presence_events NOT INDEXED WHERE id > {upto} AND citizen_id = $1 AND at >= $2 \
         ORDER BY at DESC, id LIMIT $3"
    );
    let in_runs = runs.chunks(RUNS_A_STATEMENT).map(|chunk| {
        let entries: Vec<String> = chunk
            .iter()
            .map(|&id| {
                format!(
                    "SELECT event FROM {} WHERE citizen_id = $1 AND at >= $2",
                    run_table(id)
                )
            })
            .collect();
        format!(
            "SELECT {cols} FROM presence_events NOT INDEXED WHERE id IN ({}) AND id <= {upto} AND citizen_id = $1 \
             AND at >= $2 ORDER BY at DESC, id LIMIT $3",
            entries.join(" UNION ALL ")
        )
    });
    std::iter::once(tail).chain(in_runs).collect()
}

/// The runs and the tail's start, read in the caller's transaction (one snapshot with the read that uses them).
pub(crate) async fn current(conn: &mut AnyConnection) -> Result<(Vec<i64>, i64)> {
    let runs = sqlx::query_scalar("SELECT id FROM person_runs WHERE level >= 0 ORDER BY id")
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
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop_run_sql(id)))
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

    /// The log's table as the scan writer sees it after migration 0027, with the indexes of `indexes`.
    fn log(indexes: &str) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE presence_events (id INTEGER PRIMARY KEY, location_id BIGINT, citizen_id TEXT,
                 at BIGINT NOT NULL, travel_from TEXT, travel_to TEXT);
             CREATE INDEX presence_citizen_at ON presence_events (citizen_id, at);
             {indexes}"
        ))
        .unwrap();
        conn.execute_batch(include_str!("../migrations/sqlite/0027_person_runs.sql"))
            .unwrap();
        conn
    }

    /// Registers a run of level 0 holding the entries `select` gives; returns its id.
    fn add_run(conn: &mut Connection, select: &str) -> i64 {
        let tx = conn.transaction().unwrap();
        let id = new_run(&tx, 0, 0).unwrap();
        tx.execute_batch(&format!(
            "INSERT INTO {} (citizen_id, at, event) {select}",
            run_table(id)
        ))
        .unwrap();
        tx.commit().unwrap();
        id
    }

    /// Column `column` of what each of `statements` answers for person 000000000042 since time 0.
    fn answers<T: rusqlite::types::FromSql>(
        conn: &Connection,
        statements: &[String],
        column: usize,
    ) -> Vec<T> {
        statements
            .iter()
            .flat_map(|sql| {
                conn.prepare(sql)
                    .unwrap()
                    .query_map(params!["000000000042", 0, 10_000], |r| r.get(column))
                    .unwrap()
                    .collect::<rusqlite::Result<Vec<T>>>()
                    .unwrap()
            })
            .collect()
    }

    fn count(conn: &Connection, sql: &str) -> i64 {
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    #[test]
    fn a_run_takes_the_level_whose_merges_make_runs_its_size() {
        assert_eq!(level_of(16_384), 0);
        assert_eq!(level_of(8 * 16_384 - 1), 0);
        assert_eq!(level_of(8 * 16_384), 1);
        assert_eq!(level_of(MAX_RUN_ROWS), 1);
        assert_eq!(level_of(64 * 16_384), 2);
    }

    /// The plan of a read by person on the log's other indexes: each run by its key, the tail by id, and the
    /// time index nowhere.
    #[test]
    fn a_read_by_person_seeks_each_run_and_the_tail_by_id_never_the_time_index() {
        let mut conn = log(
            "CREATE INDEX presence_location_at ON presence_events (location_id, at);
             CREATE INDEX presence_at ON presence_events (at);
             CREATE INDEX presence_arrivals ON presence_events (travel_to, at) WHERE travel_to IS NOT NULL;
             CREATE INDEX presence_departures ON presence_events (travel_from, at) WHERE travel_from IS NOT NULL;",
        );
        conn.execute_batch(
            "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 20000)
             INSERT INTO presence_events (location_id, citizen_id, at)
                 SELECT value % 7, printf('%012d', value % 1000), value FROM n;",
        )
        .unwrap();
        let run = add_run(
            &mut conn,
            "SELECT citizen_id, at, id FROM presence_events WHERE id <= 19990",
        );
        let statements = person_events_sql("id, citizen_id, at", &[run], 19_990);
        let explained: Vec<String> = statements
            .iter()
            .map(|sql| format!("EXPLAIN QUERY PLAN {sql}"))
            .collect();
        let plan = answers::<String>(&conn, &explained, 3).join("\n");
        assert!(!plan.contains("presence_at"), "{plan}");
        assert!(
            plan.contains(&format!(
                "SEARCH {} USING PRIMARY KEY (citizen_id=? AND at>?)",
                run_table(run)
            )),
            "{plan}"
        );
        assert!(
            plan.contains("SEARCH presence_events USING INTEGER PRIMARY KEY (rowid>?)"),
            "{plan}"
        );
        assert!(
            plan.contains("SEARCH presence_events USING INTEGER PRIMARY KEY (rowid=?)"),
            "{plan}"
        );
        let found = answers::<i64>(&conn, &statements, 0);
        assert_eq!(found.len(), 20, "{found:?}");
    }

    #[test]
    fn a_log_whose_first_ids_the_purge_took_still_becomes_runs() {
        let mut conn = log("");
        conn.execute_batch(
            "WITH RECURSIVE n(value) AS (SELECT 300001 UNION ALL SELECT value + 1 FROM n WHERE value < 320000)
             INSERT INTO presence_events (id, citizen_id, at) SELECT value, printf('%012d', value % 977), value FROM n;",
        )
        .unwrap();
        PersonRuns::default().grown(&mut conn, 0).unwrap();
        assert_eq!(count(&conn, "SELECT upto FROM person_index"), 320_000);
        assert_eq!(count(&conn, "SELECT SUM(entries) FROM person_runs"), 20_000);
    }

    #[test]
    fn runs_merge_only_with_runs_of_their_day() {
        let mut conn = log("");
        let tx = conn.transaction().unwrap();
        for n in 0..FANOUT {
            new_run(&tx, 0, n * DAY).unwrap();
        }
        assert!(start_merge(&tx).unwrap().is_none());
        for n in 1..FANOUT {
            new_run(&tx, 0, 3 * DAY + n).unwrap();
        }
        let merge = start_merge(&tx).unwrap().unwrap();
        assert_eq!(merge.inputs.len(), 8);
        assert_eq!(merge.level, 1);
    }

    #[test]
    fn a_read_over_more_runs_than_one_statement_takes_finds_each_entry() {
        let mut conn = log("");
        conn.execute_batch(
            "WITH RECURSIVE n(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM n WHERE value < 1000)
             INSERT INTO presence_events (id, citizen_id, at) SELECT value, '000000000042', value FROM n;",
        )
        .unwrap();
        let runs: Vec<i64> = (1..=900)
            .map(|id| add_run(&mut conn, &format!("VALUES ('000000000042', {id}, {id})")))
            .collect();
        let statements = person_events_sql("id", &runs, 1_000);
        assert_eq!(statements.len(), 1 + 3);
        assert_eq!(answers::<i64>(&conn, &statements, 0).len(), 900);
    }
}
