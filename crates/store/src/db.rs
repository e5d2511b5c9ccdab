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
    Db(#[from] sqlx::Error),
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
}

/// WAL with FULL sync: an acknowledged write survives a crash or power cut. A 10,000-page autocheckpoint
/// (about 40 MB of WAL) lets bulk writes run at 2-3x the speed of the 1,000-page default.
const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
    PRAGMA busy_timeout = 10000; PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; \
    PRAGMA wal_autocheckpoint = 10000;";

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
        version: 18,
        sqlite: include_str!("../migrations/sqlite/0018_partitions.sql"),
        postgres: include_str!("../migrations/postgres/0018_partitions.sql"),
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
        let pool = |max: u32| {
            AnyPoolOptions::new()
                .max_connections(max)
                .acquire_timeout(Duration::from_secs(30))
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        if backend == Backend::Sqlite {
                            conn.execute(SQLITE_PRAGMAS).await?;
                        }
                        Ok(())
                    })
                })
                .connect_with(options.clone())
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let write = pool(1).await?;
                // The first connection creates the file and switches it to WAL before readers open it.
                (pool(4).await?, write)
            }
            Backend::Postgres => {
                let p = pool(16).await?;
                (p.clone(), p)
            }
        };
        // On PostgreSQL each group-commit writer has a connection of its own: it never queues behind the
        // requests' reads for one, and its prepared statements stay cached on it.
        let writer = async || match backend {
            Backend::Sqlite => Ok::<_, StoreError>(write.clone()),
            Backend::Postgres => Ok(pool(1).await?),
        };
        let declarations = Arc::new(spawn_writer(writer().await?, backend));
        let scans = Arc::new(crate::presence::spawn_writer(writer().await?, backend));
        let store = Store {
            read,
            write,
            backend,
            declarations,
            scans,
        };
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
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
    }
}

/// Applies the migrations up to version `last` that `pool`'s database lacks, in one transaction (tests stop
/// early to write rows an older schema held).
pub(crate) async fn migrate_until(pool: &AnyPool, backend: Backend, last: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
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

/// Runs `INSERT INTO {into} VALUES (..),(..) {suffix}` over `rows` in chunks, `bind` adding one row's `cols`
/// values; returns what a RETURNING suffix yields.
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
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO {into} VALUES {} {suffix}",
            values_placeholders(backend, chunk.len(), cols)
        );
        let query = chunk.iter().fold(sqlx::query(AssertSqlSafe(sql)), &bind);
        out.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(out)
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
        _ => StoreError::Db(e),
    }
}

#[cfg(test)]
mod tests {
    use super::{Backend, values_placeholders};

    #[test]
    fn placeholders_number_rows_then_columns() {
        assert_eq!(
            values_placeholders(Backend::Postgres, 2, 3),
            "($1,$2,$3),($4,$5,$6)"
        );
        assert_eq!(values_placeholders(Backend::Sqlite, 2, 2), "(?,?),(?,?)");
    }
}
