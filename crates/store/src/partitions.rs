//! Day partitions of the presence log and visits on PostgreSQL (migration 0018). The server creates each day's
//! partition ahead of time; a DEFAULT partition holds any row no day partition takes, so a write never fails,
//! and a partition made for a day the DEFAULT already has rows of takes those rows over. Retention drops the
//! partitions of days wholly past the cutoff instead of deleting their rows. SQLite keeps single tables.

use crate::db::{Backend, Result, Store, StoreError};
use sqlx::{AnyConnection, AssertSqlSafe, Executor};

const DAY: i64 = 86_400;

/// The partitioned tables and their partition key (Unix seconds).
pub(crate) const PARTITIONED: [(&str, &str); 2] =
    [("presence_events", "at"), ("visits", "entered_at")];

/// Serialises partition changes of several servers on one database (an arbitrary constant, "kdpart").
const PARTITION_LOCK: i64 = 0x6b64_7061_7274;

/// The UTC day start of `t`.
fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

/// `{table}_pYYYYMMDD`, the name of `table`'s partition for the UTC day starting at `day`.
fn partition_name(table: &str, day: i64) -> Result<String> {
    let date = chrono::DateTime::from_timestamp(day, 0)
        .ok_or_else(|| StoreError::Invalid(format!("no partition for the time {day}")))?;
    Ok(format!("{table}_p{}", date.format("%Y%m%d")))
}

/// The day start a partition name stands for (None for the DEFAULT partition or a foreign name).
fn partition_day(table: &str, name: &str) -> Option<i64> {
    let date = name.strip_prefix(table)?.strip_prefix("_p")?;
    let day = chrono::NaiveDate::parse_from_str(date, "%Y%m%d").ok()?;
    Some(day.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// The names of `table`'s partitions.
pub(crate) async fn partitions_of(conn: &mut AnyConnection, table: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
         WHERE i.inhparent = CAST($1 AS TEXT)::regclass ORDER BY c.relname",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await?)
}

/// Takes the partition lock for the rest of the transaction on `conn`.
async fn lock(conn: &mut AnyConnection) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(PARTITION_LOCK)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Creates `table`'s partition for `day`. Rows of that day already in the DEFAULT partition (written while no
/// partition existed) are moved into the new table before it is attached, since PostgreSQL refuses to create a
/// partition whose rows the DEFAULT holds.
async fn create_partition(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    day: i64,
) -> Result<String> {
    let name = partition_name(table, day)?;
    let (from, to) = (day, day + DAY);
    let stranded: bool = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM {table}_default WHERE {column} >= $1 AND {column} < $2)"
    )))
    .bind(from)
    .bind(to)
    .fetch_one(&mut *conn)
    .await?;
    let sql = if stranded {
        format!(
            "CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS); \
             WITH moved AS (DELETE FROM {table}_default WHERE {column} >= {from} AND {column} < {to} RETURNING *) \
             INSERT INTO {name} SELECT * FROM moved; \
             ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({from}) TO ({to})"
        )
    } else {
        format!("CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({from}) TO ({to})")
    };
    conn.execute(AssertSqlSafe(sql)).await?;
    Ok(name)
}

/// What [`Store::drop_partitions_before`] removed: the partitions and the rows they held.
#[derive(Debug, Default)]
pub(crate) struct Dropped {
    pub names: Vec<String>,
    pub events: u64,
    pub visits: u64,
}

impl Store {
    /// Makes sure the presence log and visits have a partition for every UTC day from `behind` days before
    /// `now` to `ahead` days after it, and returns the partitions it created. Run by the server at start and
    /// daily; several servers may run it at once. Nothing to do on SQLite.
    pub async fn ensure_partitions(
        &self,
        now: i64,
        behind: u32,
        ahead: u32,
    ) -> Result<Vec<String>> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let today = day_of(now);
        let days: Vec<i64> = (-i64::from(behind)..=i64::from(ahead))
            .map(|d| today + d * DAY)
            .collect();
        let mut tx = self.begin_write().await?;
        lock(&mut tx).await?;
        let mut created = Vec::new();
        for (table, column) in PARTITIONED {
            let existing = partitions_of(&mut tx, table).await?;
            for &day in &days {
                if !existing.contains(&partition_name(table, day)?) {
                    created.push(create_partition(&mut tx, table, column, day).await?);
                }
            }
        }
        tx.commit().await?;
        Ok(created)
    }

    /// Drops every day partition that ends at or before `before`, in a transaction of its own, and audits it.
    ///
    /// Dropping a partition locks its whole table against scans until the commit, so nothing slow shares that
    /// transaction: the partitions' rows are counted first (the purge reports how many it removed), and the
    /// drops come last, just before the commit. A row can reach a day this old only by a legacy visit import
    /// between the count and the drop; scans are refused long before retention
    /// (`offline_scan_max_age_hours`).
    pub(crate) async fn drop_partitions_before(&self, before: i64) -> Result<Dropped> {
        let mut tx = self.begin_write().await?;
        lock(&mut tx).await?;
        let mut dropped = Dropped::default();
        for (table, _) in PARTITIONED {
            for name in partitions_of(&mut tx, table).await? {
                if partition_day(table, &name).is_none_or(|day| day + DAY > before) {
                    continue;
                }
                let rows: i64 =
                    sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM {name}")))
                        .fetch_one(&mut *tx)
                        .await?;
                let counted = if table == "visits" {
                    &mut dropped.visits
                } else {
                    &mut dropped.events
                };
                *counted += rows as u64;
                dropped.names.push(name);
            }
        }
        if dropped.names.is_empty() {
            return Ok(dropped);
        }
        for name in &dropped.names {
            tx.execute(AssertSqlSafe(format!("DROP TABLE {name}")))
                .await?;
        }
        crate::access::insert_audit(
            &mut tx,
            "system",
            "presence.drop_partitions",
            "presence",
            &format!("before={before} {dropped:?}"),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(partitions = ?dropped.names, "retention dropped day partitions");
        Ok(dropped)
    }

    /// The partitions of the presence log (`presence_events`) or visits (`visits`), DEFAULT included; empty on
    /// SQLite. For operators and tests.
    pub async fn partitions(&self, table: &str) -> Result<Vec<String>> {
        if self.backend() != Backend::Postgres {
            return Ok(Vec::new());
        }
        let mut conn = self.read.acquire().await?;
        partitions_of(&mut conn, table).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::migrate_until;
    use sqlx::AnyPool;

    /// Migration 0018 on a database that already holds scans and visits: every row is kept, in the partition
    /// of its day, ids go on from the largest, and a stored scan key is still a replay.
    #[tokio::test]
    async fn the_migration_moves_existing_rows_into_day_partitions() {
        let Some(url) = crate::test_db::fresh_pg("migrate").await else {
            return;
        };
        let pool = AnyPool::connect(&url).await.unwrap();
        migrate_until(&pool, Backend::Postgres, 17).await.unwrap();
        let (d1, d2) = (1_764_201_600, 1_764_201_600 + 3 * DAY); // 2025-11-27 and 2025-11-30, UTC
        pool.execute(AssertSqlSafe(format!(
            "INSERT INTO locations (name, kind, commune_code, address, lat, lon, operator_org, dwell_minutes, admits, created_at) \
               VALUES ('Chốt', 'checkpoint', '31498', '', 9.6, 105.9, '', 60, 'green', 0); \
             INSERT INTO presence_events (location_id, direction, at, device, method, decision, reason, idempotency_key, request_hash, received_at) \
               VALUES (1, 'in', {d1} + 10, 'dev', 'pass', 'admit', 'ok', 'k1', 'h1', 0), (1, 'in', {d2} + 20, 'dev', 'pass', 'admit', 'ok', 'k2', 'h2', 0); \
             INSERT INTO visits (location_id, citizen, entered_at, exited_at) VALUES (1, 94090123456, {d1} + 10, NULL), (1, 94090123456, {d2} + 20, {d2} + 900)"
        )))
        .await
        .unwrap();
        pool.close().await;

        let store = Store::connect(&url).await.unwrap();
        let mut conn = store.read.acquire().await.unwrap();
        for table in ["presence_events", "visits"] {
            let mut expected = vec![
                partition_name(table, d1).unwrap(),
                partition_name(table, d2).unwrap(),
                format!("{table}_default"),
            ];
            expected.sort();
            assert_eq!(partitions_of(&mut conn, table).await.unwrap(), expected);
            for day in [d1, d2] {
                let n: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
                    "SELECT COUNT(*) FROM {}",
                    partition_name(table, day).unwrap()
                )))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
                assert_eq!(n, 1, "{table} on {day}");
            }
        }
        let keys: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM scan_keys")
            .fetch_one(&mut *conn)
            .await
            .unwrap();
        assert_eq!(keys, 2);
        drop(conn);
        let mut replay = crate::presence::tests::scan(1, d1 + 10, "k1");
        replay.device = "dev".into();
        let again = store.record_scan(replay).await.unwrap();
        assert!(again.replay && again.event.id == 1 && again.event.request_hash == "h1");
        let fresh = store
            .record_scan(crate::presence::tests::scan(1, d2 + 30, "k3"))
            .await
            .unwrap();
        assert!(!fresh.replay);
        // Above the largest copied (a replay may use up a number: sequences leave gaps).
        assert!(fresh.event.id > 2, "ids go on from the largest copied");
        store.close().await;
    }

    #[test]
    fn names_stand_for_utc_days() {
        let day = 1_764_201_600; // 2025-11-27 00:00 UTC
        assert_eq!(day_of(day + 86_399), day);
        assert_eq!(partition_name("visits", day).unwrap(), "visits_p20251127");
        assert_eq!(partition_day("visits", "visits_p20251127"), Some(day));
        assert_eq!(partition_day("visits", "visits_default"), None);
        assert_eq!(partition_day("presence_events", "visits_p20251127"), None);
    }
}
