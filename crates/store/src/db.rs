//! Connection, backend detection and migrations.

use crate::declaring::{DeclarationWriter, spawn_writer};
use crate::presence::ScanWriter;
use sqlx::any::AnyRow;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, ConnectOptions, Executor};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Db(sqlx::Error),
    /// The database cannot be reached or cannot take a write just now (connections cut, a restart, a full
    /// disk, a pool exhausted past its wait): nothing was applied and the same request may be sent again.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    /// A group commit that failed as a whole; the cause was logged.
    #[error("the write failed: {0}")]
    Failed(String),
    /// A stored row that does not read as what it should be (the row and why): the data, not the request, is wrong.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Every database error enters the store's errors here, so that the one question callers need answered
/// (try again later, or not) is decided in one place.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        if unavailable(&e) {
            StoreError::Unavailable(e.to_string())
        } else {
            StoreError::Db(e)
        }
    }
}

/// The scan log's errors (`scan_log.rs`, its own SQLite connection) are judged as the pool's are: a full disk,
/// an I/O failure or a lock held past the busy timeout is the database being unavailable (503, try again);
/// anything else fails the group.
impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> StoreError {
        match e.sqlite_error() {
            Some(f) if sqlite_unavailable(f.extended_code) => {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Failed(e.to_string()),
        }
    }
}

/// Whether `e` says the database is away or full rather than that the request or the data is wrong: a lost or
/// refused connection, a pool that gave no connection in time, PostgreSQL shutting down or out of resources
/// (SQLSTATE classes 08 and 53, 57P01-57P03), SQLite's disk full, I/O failure, lock held past the busy
/// timeout, or file that cannot be opened.
fn unavailable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => {
            let code = d.code().unwrap_or_default();
            if d.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                sqlite_unavailable(code.parse::<i32>().unwrap_or(0))
            } else {
                code.starts_with("08") || code.starts_with("53") || code.starts_with("57P0")
            }
        }
        _ => false,
    }
}

/// Whether SQLite's (extended) result `code` is one of [`unavailable`]'s. The primary result code is the
/// extended code's low byte.
fn sqlite_unavailable(code: i32) -> bool {
    matches!(
        code & 0xff,
        SQLITE_BUSY | SQLITE_IOERR | SQLITE_FULL | SQLITE_CANTOPEN
    )
}

const SQLITE_BUSY: i32 = 5;
const SQLITE_IOERR: i32 = 10;
const SQLITE_FULL: i32 = 13;
const SQLITE_CANTOPEN: i32 = 14;

impl StoreError {
    /// The same failure for each of several waiters (a group commit's requests), keeping whether it was the
    /// database's absence.
    pub(crate) fn for_each_waiter(&self) -> StoreError {
        match self {
            StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
            e => StoreError::Failed(e.to_string()),
        }
    }

    /// A one-time code spent already (by a sign-in or a declaration): the person asks for a new one.
    pub(crate) fn code_used() -> StoreError {
        StoreError::Conflict("this one-time code was already used; request a new one".into())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("sqlite") {
            Backend::Sqlite
        } else {
            Backend::Postgres
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The database handle. SQLite allows one writer, so writes go through a one-connection pool (no lock
/// contention, no busy waits) while reads use several; PostgreSQL uses one pool for both.
#[derive(Clone)]
pub struct Store {
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    backend: Backend,
    pub(crate) declarations: Arc<DeclarationWriter>,
    pub(crate) scans: Arc<ScanWriter>,
    /// PostgreSQL's read group of declared people (see `declarants.rs`); SQLite reads in place.
    pub(crate) declarant_reads: Option<Arc<crate::declarants::DeclarantReads>>,
    /// The group-commit writers' pools (on SQLite, `write` itself) and the read group's, closed with the others.
    writer_pools: [AnyPool; 3],
    /// Live passes and their holders' standing, in memory (see `book.rs`).
    pub(crate) book: Arc<crate::book::Book>,
    /// The key-encryption key private keys are sealed under, when configured (see [`crate::sealed`]).
    pub(crate) kek: Option<Arc<crate::sealed::Kek>>,
}

/// WAL with FULL sync: an acknowledged write survives a crash or power cut. A 10,000-page autocheckpoint
/// (about 40 MB of WAL) lets bulk writes run at 2-3x the speed of the 1,000-page default. No memory map: mapped
/// pages of a database larger than memory would count in the server's resident memory.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
    PRAGMA busy_timeout = 10000; PRAGMA temp_store = MEMORY; PRAGMA mmap_size = 0; \
    PRAGMA wal_autocheckpoint = 10000;";

/// The settings every SQLite connection of the store starts with, its page cache `cache_kib` KiB.
pub(crate) fn sqlite_settings(cache_kib: i64) -> String {
    format!("{SQLITE_PRAGMAS} PRAGMA cache_size = -{cache_kib};")
}

/// Page caches, in KiB (SQLite's negative `cache_size`). Each connection has its own, so a pool holds one per
/// connection at most: 4 readers and the writer cap the pools' caches at 16 MiB (the scan writer's two
/// connections, 1 MiB each, are beside them). Readers mostly walk an index to a few rows, whose upper pages a
/// small cache keeps; the scans that would fill a large one (name searches over the registry, the pass book's
/// load) read each page once, so a cache only held them: 8 MiB a reader and 16 MiB for the writer were 48 MiB of
/// a province server's 130 MiB at idle. Pages beyond the caches come from the operating system's file cache,
/// which is not the server's memory. The writer's is larger: bulk imports and group commits revisit the same
/// index pages.
const SQLITE_WRITER_CACHE_KIB: i64 = 8 * 1024;
const SQLITE_READER_CACHE_KIB: i64 = 2 * 1024;
const SQLITE_READERS: u32 = 4;
/// PostgreSQL connections per server: each costs the database a process, and several servers share it.
const POSTGRES_CONNECTIONS: u32 = 16;

/// How long a request waits for a connection before it is refused as unavailable (503): while the database is
/// away the pool keeps trying to reconnect for this long, so no request hangs past it.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

struct Migration {
    version: i64,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        sqlite: include_str!("../migrations/sqlite/0001_foundation.sql"),
        postgres: include_str!("../migrations/postgres/0001_foundation.sql"),
    },
    Migration {
        version: 2,
        sqlite: include_str!("../migrations/sqlite/0002_presence.sql"),
        postgres: include_str!("../migrations/postgres/0002_presence.sql"),
    },
    Migration {
        version: 3,
        sqlite: include_str!("../migrations/sqlite/0003_web.sql"),
        postgres: include_str!("../migrations/postgres/0003_web.sql"),
    },
    Migration {
        version: 4,
        sqlite: include_str!("../migrations/sqlite/0004_tracing.sql"),
        postgres: include_str!("../migrations/postgres/0004_tracing.sql"),
    },
    Migration {
        version: 5,
        sqlite: include_str!("../migrations/sqlite/0005_follow_ups.sql"),
        postgres: include_str!("../migrations/postgres/0005_follow_ups.sql"),
    },
    Migration {
        version: 6,
        sqlite: include_str!("../migrations/sqlite/0006_security.sql"),
        postgres: include_str!("../migrations/postgres/0006_security.sql"),
    },
    Migration {
        version: 7,
        sqlite: include_str!("../migrations/sqlite/0007_admin.sql"),
        postgres: include_str!("../migrations/postgres/0007_admin.sql"),
    },
    Migration {
        version: 8,
        sqlite: include_str!("../migrations/sqlite/0008_map.sql"),
        postgres: include_str!("../migrations/postgres/0008_map.sql"),
    },
    Migration {
        version: 9,
        sqlite: include_str!("../migrations/sqlite/0009_map_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0009_map_indexes.sql"),
    },
    Migration {
        version: 10,
        sqlite: include_str!("../migrations/sqlite/0010_vaccination.sql"),
        postgres: include_str!("../migrations/postgres/0010_vaccination.sql"),
    },
    Migration {
        version: 11,
        sqlite: include_str!("../migrations/sqlite/0011_admission.sql"),
        postgres: include_str!("../migrations/postgres/0011_admission.sql"),
    },
    Migration {
        version: 12,
        sqlite: include_str!("../migrations/sqlite/0012_dcc.sql"),
        postgres: include_str!("../migrations/postgres/0012_dcc.sql"),
    },
    Migration {
        version: 13,
        sqlite: include_str!("../migrations/sqlite/0013_dcc_scan.sql"),
        postgres: include_str!("../migrations/postgres/0013_dcc_scan.sql"),
    },
    Migration {
        version: 14,
        sqlite: include_str!("../migrations/sqlite/0014_samples.sql"),
        postgres: include_str!("../migrations/postgres/0014_samples.sql"),
    },
    Migration {
        version: 15,
        sqlite: include_str!("../migrations/sqlite/0015_health_updates.sql"),
        postgres: include_str!("../migrations/postgres/0015_health_updates.sql"),
    },
    Migration {
        version: 16,
        sqlite: include_str!("../migrations/sqlite/0016_proximity.sql"),
        postgres: include_str!("../migrations/postgres/0016_proximity.sql"),
    },
    Migration {
        version: 17,
        sqlite: include_str!("../migrations/sqlite/0017_book.sql"),
        postgres: include_str!("../migrations/postgres/0017_book.sql"),
    },
    Migration {
        version: 18,
        sqlite: include_str!("../migrations/sqlite/0018_partitions.sql"),
        postgres: include_str!("../migrations/postgres/0018_partitions.sql"),
    },
    Migration {
        version: 19,
        sqlite: include_str!("../migrations/sqlite/0019_multi_server.sql"),
        postgres: include_str!("../migrations/postgres/0019_multi_server.sql"),
    },
    Migration {
        version: 21,
        sqlite: include_str!("../migrations/sqlite/0021_distribution.sql"),
        postgres: include_str!("../migrations/postgres/0021_distribution.sql"),
    },
    Migration {
        version: 22,
        sqlite: include_str!("../migrations/sqlite/0022_declaration_keys.sql"),
        postgres: include_str!("../migrations/postgres/0022_declaration_keys.sql"),
    },
    Migration {
        version: 23,
        sqlite: include_str!("../migrations/sqlite/0023_visit_triggers.sql"),
        postgres: include_str!("../migrations/postgres/0023_visit_triggers.sql"),
    },
    Migration {
        version: 24,
        sqlite: include_str!("../migrations/sqlite/0024_latest_declaration.sql"),
        postgres: include_str!("../migrations/postgres/0024_latest_declaration.sql"),
    },
    Migration {
        version: 25,
        sqlite: include_str!("../migrations/sqlite/0025_no_travel_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0025_no_travel_indexes.sql"),
    },
    Migration {
        version: 26,
        sqlite: include_str!("../migrations/sqlite/0026_journey_indexes.sql"),
        postgres: include_str!("../migrations/postgres/0026_journey_indexes.sql"),
    },
    Migration {
        version: 27,
        sqlite: include_str!("../migrations/sqlite/0027_person_runs.sql"),
        postgres: include_str!("../migrations/postgres/0027_person_runs.sql"),
    },
];

/// Creates a new SQLite database file with mode 0600 before SQLite opens it: it holds the population registry,
/// and SQLite would create it 0644 (less the umask). SQLite gives the `-wal` and `-shm` files the mode of the
/// database file, so they are 0600 too. Only when the URL asks for creation (`mode=rwc`); an existing file
/// is left as it is.
fn create_private_sqlite_file(url: &str) -> Result<()> {
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
    let creates = options
        .to_url_lossy()
        .query_pairs()
        .any(|(k, v)| k == "mode" && v == "rwc");
    if !creates {
        return Ok(());
    }
    let path = options.get_filename();
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Invalid(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// Whether a connection handed back to its pool may be used again: not when it still counts a transaction.
/// That happens on SQLite when a COMMIT fails (the disk full, say): SQLite rolls the transaction back itself,
/// sqlx keeps counting it open, the ROLLBACK of the dropped transaction then fails too, and the next `begin`
/// on the connection would issue a SAVEPOINT whose RELEASE commits nothing to disk, so writes would be
/// acknowledged and lost. A dropped transaction's ROLLBACK is queued, not yet run, so the connection is pinged
/// (which runs it) before it is judged; a connection that is closed rolls back whatever it held.
async fn still_clean(conn: &mut sqlx::AnyConnection) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    let clean = !conn.is_in_transaction();
    if !clean {
        tracing::warn!("a database connection left in a transaction is closed, not reused");
    }
    Ok(clean)
}

impl Store {
    /// Opens (creating if needed) the SQLite database file inside `data_dir`.
    pub async fn open_data_dir(data_dir: &Path) -> Result<Store> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            StoreError::Invalid(format!("cannot create {}: {e}", data_dir.display()))
        })?;
        Store::connect(&format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kiemdich.db").display()
        ))
        .await
    }

    /// Connects by URL (`sqlite://…` or `postgres://…`) and applies pending migrations.
    pub async fn connect(url: &str) -> Result<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Invalid(format!(
                "database URL must start with sqlite: or postgres:, got {url:?}"
            )));
        };
        if backend == Backend::Sqlite {
            create_private_sqlite_file(url)?;
        }
        let options = AnyConnectOptions::from_str(url)?.disable_statement_logging();
        // No ping before a connection is handed out: on PostgreSQL it was a round trip for every read a request
        // makes, and on SQLite (a file handle in this process) a fifth of a scan group's time. A connection that
        // died while idle (PostgreSQL restarted) fails its next query as unavailable, which answers 503 with
        // Retry-After, and is closed; the pool opens a new one for the next request.
        let pool = |max: u32, cache_kib: i64, settings: &'static str| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        match backend {
                            Backend::Sqlite => {
                                conn.execute(AssertSqlSafe(sqlite_settings(cache_kib)))
                                    .await?;
                            }
                            // Every query here is short; PostgreSQL's JIT compiled the book's reloads of a
                            // few hundred holders (estimated dear) at 45-73 ms a call, a tenth of the
                            // database's CPU under a declaration load.
                            Backend::Postgres => {
                                conn.execute("SET jit = off").await?;
                                if !settings.is_empty() {
                                    conn.execute(settings).await?;
                                }
                            }
                        }
                        Ok(())
                    })
                })
                .after_release(|conn, _| Box::pin(still_clean(conn)))
                .test_before_acquire(false)
                .connect_with(options.clone())
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let write = pool(1, SQLITE_WRITER_CACHE_KIB, "").await?;
                // The first connection creates the file and switches it to WAL before readers open it.
                (
                    pool(SQLITE_READERS, SQLITE_READER_CACHE_KIB, "").await?,
                    write,
                )
            }
            Backend::Postgres => {
                let p = pool(POSTGRES_CONNECTIONS, 0, "").await?;
                (p.clone(), p)
            }
        };
        // On PostgreSQL each group-commit writer, and the read group of declared people, has a connection of
        // its own: it never queues behind the requests' reads for one, and its prepared statements stay cached
        // on it. SQLite's scan writer has one outside the pools (`scan_log.rs`); SQLite reads in place.
        let writer = async |settings| match backend {
            Backend::Sqlite => Ok::<_, StoreError>(write.clone()),
            Backend::Postgres => Ok(pool(1, 0, settings).await?),
        };
        let writer_pools = [
            writer("").await?,
            writer(crate::presence_pg::WRITER_SETTINGS).await?,
            writer("").await?,
        ];
        let declarant_reads = (backend == Backend::Postgres).then(|| {
            Arc::new(crate::declarants::spawn_reads(
                writer_pools[2].clone(),
                backend,
            ))
        });
        let declarations = Arc::new(spawn_writer(writer_pools[0].clone(), backend));
        let scans = Arc::new(match backend {
            Backend::Sqlite => {
                let path = sqlx::sqlite::SqliteConnectOptions::from_str(url)?
                    .get_filename()
                    .to_owned();
                let log = crate::scan_log::ScanLog::open(&path)?;
                crate::presence::spawn_sqlite_writer(log, read.clone())
            }
            Backend::Postgres => crate::presence_pg::spawn_writer(writer_pools[1].clone()),
        });
        let store = Store {
            read,
            write,
            backend,
            declarations,
            scans,
            declarant_reads,
            writer_pools,
            book: Arc::new(crate::book::Book::new()),
            kek: None,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction: see [`begin_write`].
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        begin_write(&self.write, self.backend).await
    }

    async fn migrate(&self) -> Result<()> {
        migrate_until(&self.write, self.backend, i64::MAX).await
    }

    /// Writes a consistent copy of the SQLite database to `path` while it stays in use (`VACUUM INTO`).
    /// PostgreSQL deployments back up with their own tools (pg_dump, base backups).
    pub async fn backup_to(&self, path: &Path) -> Result<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Invalid(
                "backup is for the embedded SQLite database; use pg_dump for PostgreSQL".into(),
            ));
        }
        if path.exists() {
            return Err(StoreError::Invalid(format!(
                "{} already exists",
                path.display()
            )));
        }
        sqlx::query("VACUUM INTO $1")
            .bind(path.display().to_string())
            .execute(&self.read)
            .await?;
        Ok(())
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        for pool in &self.writer_pools {
            pool.close().await;
        }
    }
}

/// Begins a write transaction on `pool`. On SQLite it takes the write lock as it begins (`BEGIN IMMEDIATE`):
/// the scan writer's connections write too (`scan_log.rs`), and a deferred transaction that read before
/// it wrote would fail at once (SQLITE_BUSY_SNAPSHOT, no busy wait) had a scan group committed in between.
pub(crate) async fn begin_write(
    pool: &AnyPool,
    backend: Backend,
) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
    Ok(match backend {
        Backend::Sqlite => pool.begin_with("BEGIN IMMEDIATE").await?,
        Backend::Postgres => pool.begin().await?,
    })
}

/// Whether a failed transaction may simply be run again: PostgreSQL chose it as a deadlock's victim
/// (40P01) or could not serialise it (40001), or another server stored a declaration's idempotency key between
/// this transaction's look-up and its insert (the next attempt finds the key and answers a replay).
pub(crate) fn is_transient(e: &StoreError) -> bool {
    matches!(e, StoreError::Db(sqlx::Error::Database(d))
        if matches!(d.code().as_deref(), Some("40P01" | "40001"))
            || d.constraint() == Some("declaration_keys_pkey"))
}

/// How often a group commit is tried before its items fail.
const MAX_ATTEMPTS: u32 = 5;

/// Rows as one JSON parameter of a PostgreSQL group statement (read there by `json_to_recordset`): the
/// statement's text stays the same whatever the group's size, so it is prepared and planned once.
pub(crate) fn json_rows<T: serde::Serialize>(rows: &[T]) -> Result<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::Failed(e.to_string()))
}

/// Runs a group commit's transaction again while it fails for a reason a retry cures ([`is_transient`]); the
/// transaction must be idempotent (it skips what an earlier attempt or another server stored).
pub(crate) async fn retried<T, F: Future<Output = Result<T>>>(
    what: &str,
    mut attempt_once: impl FnMut() -> F,
) -> Result<T> {
    let mut attempt = 1;
    loop {
        match attempt_once().await {
            Err(e) if attempt < MAX_ATTEMPTS && is_transient(&e) => {
                tracing::debug!(error = %e, attempt, what, "group commit retried");
                attempt += 1;
            }
            done => return done,
        }
    }
}

/// Applies the migrations up to version `last` that `pool`'s database lacks, in one transaction (tests stop
/// early to write rows an older schema held).
pub(crate) async fn migrate_until(pool: &AnyPool, backend: Backend, last: i64) -> Result<()> {
    let mut tx = begin_write(pool, backend).await?;
    tx.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)").await?;
    if backend == Backend::Postgres {
        // Serialises concurrent starts of several servers against one database.
        tx.execute("LOCK TABLE schema_migrations IN EXCLUSIVE MODE")
            .await?;
    }
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut *tx)
        .await?;
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version <= last && !applied.contains(&m.version))
    {
        let sql = match backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        sqlx::raw_sql(sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
            .bind(m.version)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        tracing::info!(
            version = m.version,
            backend = backend.as_str(),
            "applied migration"
        );
    }
    tx.commit().await?;
    Ok(())
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Builds the VALUES list of a multi-row insert of `rows` rows of `cols` columns. SQLite gets anonymous `?`
/// parameters: sqlx binds numbered ones in time quadratic in their count (20k rows/s at 500 rows a
/// statement, against 290k with `?`); PostgreSQL needs `$n`.
pub fn values_placeholders(backend: Backend, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    for r in 0..rows {
        s.push_str(if r == 0 { "(" } else { ",(" });
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            match backend {
                Backend::Sqlite => s.push('?'),
                Backend::Postgres => {
                    s.push('$');
                    s.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        s.push(')');
    }
    s
}

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

/// Rows per multi-row statement: far below both backends' parameter limits.
pub(crate) const ROWS_PER_STATEMENT: usize = 500;

/// On SQLite, the ids the last INSERT on `conn` gave the rows it wrote, in the statement's order (empty when
/// it wrote none): a table's integer primary key takes one more than the largest for each row written, and
/// rows skipped by `ON CONFLICT DO NOTHING` take none. Asking costs one row where `RETURNING` costs one per
/// row written, and rows are the dear part of a statement through the SQLite worker.
pub(crate) async fn sqlite_inserted_ids(
    conn: &mut AnyConnection,
) -> Result<std::ops::RangeInclusive<i64>> {
    let (written, last): (i64, i64) = sqlx::query_as("SELECT changes(), last_insert_rowid()")
        .fetch_one(&mut *conn)
        .await?;
    Ok((last - written + 1)..=last)
}

/// Binds a nullable DOUBLE PRECISION value. sqlx 0.9's Any driver sends a NULL `f64` to PostgreSQL as a
/// `real` (its `Real`/`Double` nulls are swapped), so a cached statement first run with a NULL there then
/// refuses a value ("incorrect binary data format"); a NULL `f32` is sent as `double precision`.
pub(crate) fn bind_f64(q: AnyQuery<'_>, value: Option<f64>) -> AnyQuery<'_> {
    match value {
        Some(v) => q.bind(v),
        None => q.bind(None::<f32>),
    }
}

/// Separators of [`packed_columns`]: control characters, which none of the codes, ids, labels, enums and
/// phones packed holds (free text such as a lab's name is never packed).
const FIELD_SEP: char = '\u{1f}';
const ROW_SEP: char = '\u{1e}';

/// A select-list item packing `cols` of every row of the query into one text (NULL as empty), for reads of
/// thousands of rows: through the SQLite worker each row costs a hand-off between threads, one text does not.
/// Unpack with [`unpack_rows`].
pub(crate) fn packed_columns(backend: Backend, cols: &[&str]) -> String {
    let agg = match backend {
        Backend::Sqlite => "group_concat",
        Backend::Postgres => "string_agg",
    };
    let fields: Vec<String> = cols
        .iter()
        .map(|c| format!("COALESCE(CAST({c} AS TEXT), '')"))
        .collect();
    format!(
        "{agg}({}, '{ROW_SEP}')",
        fields.join(&format!(" || '{FIELD_SEP}' || "))
    )
}

/// The rows of a [`packed_columns`] text of `n` columns, each a slice of its fields (empty for NULL).
pub(crate) fn unpack_rows(packed: &str, n: usize) -> Result<Vec<Vec<&str>>> {
    packed
        .split(ROW_SEP)
        .map(|row| {
            let fields: Vec<&str> = row.split(FIELD_SEP).collect();
            if fields.len() == n {
                Ok(fields)
            } else {
                Err(StoreError::Corrupt(format!(
                    "a packed row of {} fields, not {n}: {row:?}",
                    fields.len()
                )))
            }
        })
        .collect()
}

/// A packed integer field: empty is NULL.
pub(crate) fn packed_int(field: &str) -> Result<Option<i64>> {
    (!field.is_empty())
        .then(|| {
            field
                .parse::<i64>()
                .map_err(|e| StoreError::Corrupt(format!("packed integer {field:?}: {e}")))
        })
        .transpose()
}

/// `INSERT INTO {into} VALUES (..),(..) {suffix}` over `rows`, one statement per chunk of
/// [`ROWS_PER_STATEMENT`], `bind` adding one row's `cols` values.
pub(crate) fn insert_statements<'q, T>(
    backend: Backend,
    into: &str,
    cols: usize,
    suffix: &str,
    rows: &'q [T],
    bind: impl Fn(AnyQuery<'q>, &'q T) -> AnyQuery<'q>,
) -> impl Iterator<Item = AnyQuery<'q>> {
    let head = format!("INSERT INTO {into} VALUES");
    let suffix = suffix.to_owned();
    rows.chunks(ROWS_PER_STATEMENT).map(move |chunk| {
        let sql = format!(
            "{head} {} {suffix}",
            values_placeholders(backend, chunk.len(), cols)
        );
        chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)), &bind)
    })
}

/// Runs [`insert_statements`]; returns what a RETURNING suffix yields.
pub(crate) async fn insert_rows<'q, T>(
    conn: &mut AnyConnection,
    backend: Backend,
    into: &str,
    cols: usize,
    suffix: &str,
    rows: &'q [T],
    bind: impl Fn(AnyQuery<'q>, &'q T) -> AnyQuery<'q>,
) -> Result<Vec<AnyRow>> {
    let mut out = Vec::new();
    for query in insert_statements(backend, into, cols, suffix, rows, bind) {
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

/// Runs statements with no RETURNING (which on SQLite costs a round trip a row, [`insert_statements`]); the rows
/// they stored.
pub(crate) async fn execute_counted<'q>(
    conn: &mut AnyConnection,
    statements: impl Iterator<Item = AnyQuery<'q>>,
) -> Result<u64> {
    let mut stored = 0;
    for query in statements {
        stored += query.execute(&mut *conn).await?.rows_affected();
    }
    Ok(stored)
}

/// Runs `sql` on `conn` with `{in}` replaced by a list of parameters for `values`, 500 at a time, and returns all
/// rows: for `… WHERE x IN ({in})` over lists of any length (inside a transaction too).
pub(crate) async fn fetch_in_on(
    conn: &mut AnyConnection,
    backend: Backend,
    sql: &str,
    values: &[String],
) -> Result<Vec<AnyRow>> {
    let mut out = Vec::new();
    for chunk in values.chunks(500) {
        let sql = sql.replace("{in}", &list_placeholders(backend, chunk.len()).join(","));
        let query = chunk
            .iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |q, v| q.bind(v.as_str()));
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
}

impl Store {
    /// [`fetch_in_on`] on a connection of the read pool.
    pub(crate) async fn fetch_in(&self, sql: &str, values: &[String]) -> Result<Vec<AnyRow>> {
        let mut conn = self.read.acquire().await?;
        fetch_in_on(&mut conn, self.backend(), sql, values).await
    }
}

/// `n` parameters in order: `$1..$n` on PostgreSQL, anonymous `?` on SQLite (never mixed with numbered
/// ones in one statement, whose index mapping sqlx does not define).
pub(crate) fn list_placeholders(backend: Backend, n: usize) -> Vec<String> {
    let one = |i: usize| match backend {
        Backend::Sqlite => "?".to_owned(),
        Backend::Postgres => format!("${}", i + 1),
    };
    (0..n).map(one).collect()
}

/// Maps a unique-constraint violation to [`StoreError::Conflict`] so that callers can answer 409, not 500.
pub(crate) fn conflict(what: impl Into<String>) -> impl FnOnce(sqlx::Error) -> StoreError {
    let what = what.into();
    move |e| match &e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            StoreError::Conflict(format!("{what} already exists"))
        }
        _ => StoreError::from(e),
    }
}

#[cfg(test)]
mod tests {
    use super::{
        Backend, SQLITE_READER_CACHE_KIB, SQLITE_WRITER_CACHE_KIB, Store, values_placeholders,
    };

    /// Each pool's connections carry the store's settings, their own cache size among them.
    #[tokio::test]
    async fn sqlite_connections_start_with_the_stores_settings() {
        let dir = std::env::temp_dir().join(format!("kiemdich_settings_{}", std::process::id()));
        let store = Store::open_data_dir(&dir).await.unwrap();
        for (pool, cache_kib) in [
            (&store.read, SQLITE_READER_CACHE_KIB),
            (&store.write, SQLITE_WRITER_CACHE_KIB),
        ] {
            let mut conn = pool.acquire().await.unwrap();
            for (pragma, want) in [
                ("journal_mode", "wal".to_owned()),
                ("synchronous", "2".to_owned()),
                ("foreign_keys", "1".to_owned()),
                ("busy_timeout", "10000".to_owned()),
                ("cache_size", format!("-{cache_kib}")),
            ] {
                let got: String = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT CAST((SELECT * FROM pragma_{pragma}) AS TEXT)"
                )))
                .fetch_one(&mut *conn)
                .await
                .unwrap();
                assert_eq!(got, want, "{pragma}, cache {cache_kib}");
            }
        }
        store.close().await;
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1,$2,$3),($4,$5,$6)"
        );
        assert_eq!(values_placeholders(Backend::Sqlite, 2, 2), "(?,?),(?,?)");
    }
}
