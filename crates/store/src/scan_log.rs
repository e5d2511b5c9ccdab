//! SQLite's scan writer: a connection of its own, driven synchronously by the scan group commit's thread.
//! Through the pool each statement was a hop to the driver's worker thread and back, and each scan's fifteen
//! values were copied into the driver's argument types on the way; here a group is one cached multi-row insert,
//! run on the thread that gathered the group.
//!
//! It and the person index's writer ([`PersonIndexer`], on the same thread) are SQLite's writer connections
//! beside the pool's, which is why every write transaction of the pool takes the write lock as it begins
//! ([`crate::db::begin_write`]).

use crate::db::{Result, StoreError, sqlite_settings};
use crate::person_runs::PersonRuns;
use crate::presence::{NewScan, SCAN_COLS, StoredIds, key_of};
use kiemdich_domain::HealthStatus;
use rusqlite::{Connection, TransactionBehavior, params};
use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The page cache of each of its two connections, in KiB. It counts in the server's memory (the 150 MB budget
/// with a province loaded); index pages beyond it come from the operating system's file cache. With 8 MiB and 64 cached statements the memory
/// benchmark peaked at 158–169 MiB, with this 150–166 MiB; one scan a request was no clearly faster in the VM's
/// noise, batches of 100 were (64,703 against 57,347 scans/s, one run each).
const CACHE_KIB: i64 = 1024;

/// The most scans one statement stores: SQLite takes at most 32,766 parameters, and a scan binds 15.
const ROWS_PER_STATEMENT: usize = 2_000;
/// The values a scan binds: [`SCAN_COLS`].
const COLS: usize = 15;
const _: () = assert!(ROWS_PER_STATEMENT * COLS <= 32_766);

/// The insert of `rows` scans; a key already stored inserts nothing. Anonymous parameters, bound by position.
fn insert_sql(rows: usize) -> String {
    let row = format!("({})", vec!["?"; COLS].join(", "));
    format!(
        "INSERT INTO presence_events ({SCAN_COLS}) VALUES {} ON CONFLICT (device, idempotency_key) DO NOTHING",
        vec![row.as_str(); rows].join(", ")
    )
}

pub(crate) struct ScanLog {
    conn: Connection,
    /// Rows stored since the person index last caught up.
    unindexed: Arc<AtomicU64>,
}

/// The person index's writer ([`crate::person_runs`]), which makes runs of the rows the scan log stored and
/// merges them, on the scan writer's thread after a group's answers are sent: not in any scan's wait, done
/// while the scanners answered send their next scans. On a connection of its own, which commits without
/// syncing the write-ahead log: the next group's commit syncs it with its own, the log being one file. A run
/// is lost in a crash only whole, with the tail's start it moved, and is made again. A sync of its own after a
/// group measured 1 ms at the median and 8 ms at the 99th percentile here.
pub(crate) struct PersonIndexer {
    conn: Connection,
    runs: PersonRuns,
    unindexed: Arc<AtomicU64>,
}

impl ScanLog {
    /// Opens the database file at `path` (already created and in WAL mode) with the pool's settings. Its
    /// statements are cached by size (a statement of many rows is a long program, so only a few): under a
    /// steady load groups come in a few sizes.
    /// The person index's writer comes with it.
    pub fn open(path: &Path) -> Result<(ScanLog, PersonIndexer)> {
        let conn = Connection::open(path)?;
        conn.execute_batch(&sqlite_settings(CACHE_KIB))?;
        conn.set_prepared_statement_cache_capacity(8);
        let index = Connection::open(path)?;
        index.execute_batch(&sqlite_settings(CACHE_KIB))?;
        index.pragma_update(None, "synchronous", "NORMAL")?;
        let unindexed = Arc::new(AtomicU64::new(0));
        let indexer = PersonIndexer {
            conn: index,
            runs: PersonRuns::default(),
            unindexed: unindexed.clone(),
        };
        Ok((ScanLog { conn, unindexed }, indexer))
    }

    /// Stores the group, its scans in the order they came (the visits' triggers see an entry before the exit
    /// sent after it), and returns the id each scan's row got, `None` for a key already stored, by an earlier
    /// group or earlier in this one. A group is one statement, its own transaction: inside an explicit one
    /// SQLite would first copy each page the statement touches to a statement journal (its triggers make it a
    /// statement that may fail half-way), a tenth of the writer's time when measured. Only a group larger than a
    /// statement takes a transaction.
    pub fn insert(&mut self, group: &[NewScan], received: i64) -> Result<StoredIds> {
        let mut seen = HashSet::with_capacity(group.len());
        let unique: Vec<(usize, &NewScan)> = group
            .iter()
            .enumerate()
            .filter(|(_, s)| seen.insert(key_of(s)))
            .collect();
        let mut stored = vec![None; group.len()];
        if unique.len() <= ROWS_PER_STATEMENT {
            insert_statement(&self.conn, &unique, received, &mut stored)?;
        } else {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            for rows in unique.chunks(ROWS_PER_STATEMENT) {
                insert_statement(&tx, rows, received, &mut stored)?;
            }
            tx.commit()?;
        }
        let new = stored.iter().flatten().count() as u64;
        self.unindexed.fetch_add(new, Ordering::Relaxed);
        Ok(stored)
    }
}

impl PersonIndexer {
    /// Takes the rows stored since the last call into the person index. The scans are durable already: a run
    /// that cannot be made now (the disk full, say) is made from a longer tail after a later group.
    pub fn catch_up(&mut self) {
        let new = self.unindexed.swap(0, Ordering::Relaxed);
        if let Err(e) = self.runs.grown(&mut self.conn, new) {
            tracing::warn!(error = %e, "the person index did not take the log's newest scans yet");
        }
    }
}

/// Inserts `rows` (distinct keys, each with its place in the group) in one statement and notes in `stored` the
/// id each stored row got. The rows a statement stores get consecutive ids, the last one `last_insert_rowid()`,
/// so when all were stored their ids follow from it; when some keys were stored before (replays, rare), each
/// key's id is looked up, and its row is new when the id is in the statement's range.
fn insert_statement(
    conn: &Connection,
    rows: &[(usize, &NewScan)],
    received: i64,
    stored: &mut [Option<i64>],
) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut insert = conn.prepare_cached(&insert_sql(rows.len()))?;
    for (n, (_, s)) in rows.iter().enumerate() {
        bind_scan(&mut insert, n * COLS, s, received)?;
    }
    let count = insert.raw_execute()?;
    if count == 0 {
        return Ok(());
    }
    let last = conn.last_insert_rowid();
    let first = last + 1 - i64::try_from(count).map_err(|e| StoreError::Failed(e.to_string()))?;
    let mut id_of = if count < rows.len() {
        Some(conn.prepare_cached(
            "SELECT id FROM presence_events WHERE device = ?1 AND idempotency_key = ?2",
        )?)
    } else {
        None
    };
    for ((place, s), next) in rows.iter().zip(first..) {
        let id = match &mut id_of {
            None => next,
            Some(lookup) => lookup.query_row(params![s.device, s.idempotency_key], |r| r.get(0))?,
        };
        if (first..=last).contains(&id) {
            stored[*place] = Some(id);
        }
    }
    Ok(())
}

/// Binds a scan's values, in [`SCAN_COLS`]' order, after the first `before` parameters.
fn bind_scan(
    insert: &mut rusqlite::CachedStatement<'_>,
    before: usize,
    s: &NewScan,
    received: i64,
) -> Result<()> {
    let values: [&dyn rusqlite::ToSql; COLS] = [
        &s.location_id,
        &s.citizen_id,
        &s.pass_id,
        &s.direction.as_str(),
        &s.at,
        &s.device,
        &s.method.as_str(),
        &s.decision.as_str(),
        &s.reason,
        &s.status.map(HealthStatus::as_str),
        &s.travel_from,
        &s.travel_to,
        &s.idempotency_key,
        &s.request_hash,
        &received,
    ];
    for (i, v) in values.into_iter().enumerate() {
        insert.raw_bind_parameter(before + i + 1, v)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_binds_one_parameter_a_column_of_each_row() {
        assert_eq!(SCAN_COLS.split(", ").count(), COLS);
        assert_eq!(insert_sql(3).matches('?').count(), 3 * COLS);
    }

    #[test]
    fn groups_commit_synced_and_the_person_index_rides_on_them() {
        let path = std::env::temp_dir().join(format!("kd-scan-log-{}.db", std::process::id()));
        let (log, indexer) = ScanLog::open(&path).unwrap();
        let sync = |c: &Connection| {
            c.pragma_query_value(None, "synchronous", |r| r.get::<_, i64>(0))
                .unwrap()
        };
        // 2 is FULL (a sync at each commit), 1 NORMAL (none in WAL mode).
        assert_eq!((sync(&log.conn), sync(&indexer.conn)), (2, 1));
        drop((log, indexer));
        for end in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{end}", path.display()));
        }
    }
}
