//! `kiemdich bench trace`: the F1 query for one case over a synthetic national-scale visit log, next to a plain
//! SQL self-join on the same data in the same run.
//!
//! The log keeps the density of a national one at any size: one location per 2,000 visits (about 70 a day over
//! 28 days), one person per 10 visits, stays of 15 to 120 minutes. Each traced case has 14 days of visits, three
//! a day.

use crate::Result;
use crate::import::memory_kib;
use crate::synth::Rng;
use kiemdich_domain::{Rules, Span};
use kiemdich_store::{Backend, Store, TraceParams, values_placeholders};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use std::time::Instant;

const DAYS: i64 = 28;
const CASES: usize = 20;
/// Synthetic citizen numbers: 12 digits, province 94.
const FIRST_CITIZEN: i64 = 94_000_000_000;

/// The same query as the engine's F1 step, written as one self-join with no bound on how long a stay may be:
/// what a straightforward implementation would run.
const SELF_JOIN: &str = "SELECT citizen, location_id, f, t FROM (
  SELECT b.citizen AS citizen, a.location_id AS location_id,
    CASE WHEN a.entered_at > b.entered_at THEN a.entered_at ELSE b.entered_at END AS f,
    CASE WHEN COALESCE(a.exited_at, a.entered_at + 3600) < COALESCE(b.exited_at, b.entered_at + 3600)
         THEN COALESCE(a.exited_at, a.entered_at + 3600) ELSE COALESCE(b.exited_at, b.entered_at + 3600) END AS t
  FROM visits a JOIN visits b ON b.location_id = a.location_id AND b.citizen <> a.citizen
    AND b.entered_at < COALESCE(a.exited_at, a.entered_at + 3600)
    AND COALESCE(b.exited_at, b.entered_at + 3600) > a.entered_at
  WHERE a.citizen = $1 AND a.entered_at >= $2 AND a.entered_at < $3) x WHERE t - f >= 900";

/// Fills `visits` with `rows` synthetic visits ending now; indexes are rebuilt after the load, as a bulk load
/// would. Returns the traced cases and the time the load took.
async fn generate(url: &str, rows: u64, now: i64, reuse: bool) -> Result<(Vec<i64>, f64)> {
    let sqlite = url.starts_with("sqlite");
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let ex = |e: sqlx::Error| e.to_string();
    if sqlite {
        conn.execute("PRAGMA synchronous = OFF; PRAGMA cache_size = -262144")
            .await
            .map_err(ex)?;
    }
    let log = Log {
        locations: (rows / 2_000).max(10) as i64,
        people: (rows / 10).max(100) as i64,
        start: now - DAYS * 86_400,
    };
    let cases: Vec<i64> = (0..CASES as i64)
        .map(|i| FIRST_CITIZEN + log.people + i)
        .collect();
    let mut rng = Rng::new(2021);
    let mut case_visits = Vec::new();
    for &c in &cases {
        for d in 0..14 * 3 {
            let entered = now - 14 * 86_400 + d * 8 * 3600 + rng.below(3600) as i64;
            let location = 1 + rng.below(log.locations as u64) as i64;
            case_visits.push((
                location,
                c,
                entered,
                Some(entered + 60 * (15 + rng.below(106) as i64)),
            ));
        }
    }
    if reuse && !sqlite {
        let random = rows - case_visits.len() as u64;
        let have: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM visits WHERE citizen < $1")
            .bind(cases[0])
            .fetch_one(&mut conn)
            .await
            .map_err(ex)?;
        if have as u64 == random {
            println!(
                "reusing {random} random visits already loaded; the cases' visits written again"
            );
            sqlx::query("DELETE FROM visits WHERE citizen >= $1")
                .bind(cases[0])
                .execute(&mut conn)
                .await
                .map_err(ex)?;
            for batch in case_visits.chunks(500) {
                insert_batch(&mut conn, url, batch).await?;
            }
            conn.execute(AssertSqlSafe(format!("{PLAIN_INDEXES}; ANALYZE visits")))
                .await
                .map_err(ex)?;
            return Ok((cases, 0.0));
        }
    }
    conn.execute(AssertSqlSafe(format!(
        "{}; DROP INDEX IF EXISTS visits_location; DROP INDEX IF EXISTS visits_citizen",
        empty_visits(sqlite)
    )))
    .await
    .map_err(ex)?;
    let t = Instant::now();
    let pb = indicatif::ProgressBar::new(rows);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "generating visits {bar:30} {pos}/{len} {per_sec} {eta}",
        )
        .expect("valid template"),
    );
    if sqlite {
        load_from_client(&mut conn, url, rows, case_visits, &log, &mut rng, &pb).await?;
    } else {
        load_on_server(&mut conn, url, rows, case_visits, &log, &pb).await?;
    }
    pb.set_message("indexing");
    // The unique index of the schema would refuse the rare random repeat; the benchmark keeps a plain one.
    conn.execute(PLAIN_INDEXES).await.map_err(ex)?;
    if !sqlite {
        conn.execute("ANALYZE visits").await.map_err(ex)?;
    }
    pb.finish_and_clear();
    Ok((cases, t.elapsed().as_secs_f64()))
}

/// The schema's indexes on visits, with a plain one where it has the unique one.
const PLAIN_INDEXES: &str = "CREATE INDEX IF NOT EXISTS visits_location ON visits (location_id, entered_at, exited_at, citizen); \
    CREATE INDEX IF NOT EXISTS visits_citizen ON visits (citizen, entered_at, location_id)";

/// How to empty the visit log: TRUNCATE on PostgreSQL, where a DELETE of 100 million rows takes minutes.
fn empty_visits(sqlite: bool) -> &'static str {
    if sqlite {
        "DELETE FROM visits"
    } else {
        "TRUNCATE visits"
    }
}

/// The shape of the synthetic log: how many places and people, and when it starts.
struct Log {
    locations: i64,
    people: i64,
    start: i64,
}

type Row = (i64, i64, i64, Option<i64>);

/// Inserts `rows` visits from this process, 500 a statement: the cases' own visits first, then random ones.
async fn load_from_client(
    conn: &mut AnyConnection,
    url: &str,
    rows: u64,
    case_visits: Vec<Row>,
    log: &Log,
    rng: &mut Rng,
    pb: &indicatif::ProgressBar,
) -> Result<()> {
    let ex = |e: sqlx::Error| e.to_string();
    let mut written = 0u64;
    let mut pending = case_visits.into_iter();
    while written < rows {
        let mut tx = conn.begin().await.map_err(ex)?;
        for _ in 0..200 {
            let n = 500.min((rows - written) as usize);
            if n == 0 {
                break;
            }
            let mut batch: Vec<Row> = pending.by_ref().take(n).collect();
            while batch.len() < n {
                let entered = log.start + rng.below((DAYS * 86_400) as u64) as i64;
                let exit = (rng.below(10) > 0).then(|| entered + 60 * (15 + rng.below(106) as i64));
                batch.push((
                    1 + rng.below(log.locations as u64) as i64,
                    FIRST_CITIZEN + rng.below(log.people as u64) as i64,
                    entered,
                    exit,
                ));
            }
            insert_batch(&mut tx, url, &batch).await?;
            written += n as u64;
        }
        tx.commit().await.map_err(ex)?;
        pb.set_position(written);
    }
    Ok(())
}

async fn insert_batch(conn: &mut AnyConnection, url: &str, batch: &[Row]) -> Result<()> {
    let sql = format!(
        "INSERT INTO visits (location_id, citizen, entered_at, exited_at) VALUES {}",
        values_placeholders(Backend::of_url(url), batch.len(), 4)
    );
    let q = batch.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, v| {
        q.bind(v.0).bind(v.1).bind(v.2).bind(v.3)
    });
    q.execute(&mut *conn).await.map_err(|e| e.to_string())?;
    Ok(())
}

/// Rows generated inside PostgreSQL per statement (and transaction).
const SERVER_CHUNK: u64 = 1_000_000;

/// Inserts the cases' visits from here, then generates the random ones inside PostgreSQL (`generate_series`,
/// seeded), a million a statement: 100 million rows through the wire would take most of an hour.
async fn load_on_server(
    conn: &mut AnyConnection,
    url: &str,
    rows: u64,
    case_visits: Vec<Row>,
    log: &Log,
    pb: &indicatif::ProgressBar,
) -> Result<()> {
    let ex = |e: sqlx::Error| e.to_string();
    let mut written = case_visits.len() as u64;
    for batch in case_visits.chunks(500) {
        insert_batch(conn, url, batch).await?;
    }
    conn.execute("SELECT setseed(0.2021)").await.map_err(ex)?;
    while written < rows {
        let n = SERVER_CHUNK.min(rows - written);
        let sql = format!(
            "INSERT INTO visits (location_id, citizen, entered_at, exited_at) \
             SELECT l, c, e, CASE WHEN random() < 0.9 THEN e + 60 * (15 + floor(random() * 106)::BIGINT) END \
             FROM (SELECT 1 + floor(random() * {})::BIGINT AS l, {FIRST_CITIZEN} + floor(random() * {})::BIGINT AS c, \
                          {} + floor(random() * {})::BIGINT AS e FROM generate_series(1, {n})) g",
            log.locations,
            log.people,
            log.start,
            DAYS * 86_400
        );
        conn.execute(AssertSqlSafe(sql)).await.map_err(ex)?;
        written += n;
        pb.set_position(written);
    }
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// `reuse`: on PostgreSQL, keep a log of the same size that an earlier run (or the same SQL) loaded, and leave it
/// in place afterwards.
pub async fn bench_trace(
    store: &Store,
    url: &str,
    backend: &str,
    rows: u64,
    reuse: bool,
) -> Result<()> {
    let rules = Rules::default();
    let now = chrono::Utc::now().timestamp();
    // The day partitions (PostgreSQL) of the whole log, as the server keeps them.
    store
        .ensure_partitions(now, DAYS as u32 + 1, 1)
        .await
        .map_err(|e| e.to_string())?;
    let (cases, load_secs) = generate(url, rows, now, reuse).await?;
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let (mut ours, mut plain, mut deep) = (Vec::new(), Vec::new(), Vec::new());
    let mut contacts = 0usize;
    for &case in &cases {
        let window = Span {
            from: now - 14 * 86_400,
            to: now,
        };
        let p = |depth| TraceParams {
            citizen: case,
            window,
            depth,
            min_overlap_minutes: 15,
            now,
        };
        let t = Instant::now();
        let result = store
            .trace(&rules, &p(1))
            .await
            .map_err(|e| e.to_string())?;
        ours.push(t.elapsed().as_secs_f64() * 1e3);
        contacts += result.contacts.len();
        let t = Instant::now();
        let rows = sqlx::query(SELF_JOIN)
            .bind(case)
            .bind(window.from)
            .bind(window.to)
            .fetch_all(&mut conn)
            .await
            .map_err(|e| e.to_string())?;
        plain.push(t.elapsed().as_secs_f64() * 1e3);
        std::hint::black_box(rows);
        let t = Instant::now();
        store
            .trace(&rules, &p(2))
            .await
            .map_err(|e| e.to_string())?;
        deep.push(t.elapsed().as_secs_f64() * 1e3);
    }
    // Leave the schema as it was: no synthetic rows, the unique index back.
    if !reuse {
        conn.execute(AssertSqlSafe(format!("{}; DROP INDEX visits_citizen; CREATE UNIQUE INDEX visits_citizen ON visits (citizen, entered_at, location_id)", empty_visits(url.starts_with("sqlite")))))
        .await
        .map_err(|e| e.to_string())?;
    }
    for v in [&mut ours, &mut plain, &mut deep] {
        v.sort_by(f64::total_cmp);
    }
    let (rss, peak) = memory_kib();
    println!(
        "| F1 query, {backend}, {rows} visits (loaded in {load_secs:.0} s), {CASES} cases × 42 visits, {:.0} contacts each | p50 {:.1} ms, p95 {:.1} ms; F1+F2 p50 {:.1} ms; RSS {} MiB (peak {} MiB) | plain SQL self-join p50 {:.1} ms, p95 {:.1} ms | p50 ≤ 50 ms |",
        contacts as f64 / CASES as f64,
        percentile(&ours, 0.5),
        percentile(&ours, 0.95),
        percentile(&deep, 0.5),
        rss / 1024,
        peak / 1024,
        percentile(&plain, 0.5),
        percentile(&plain, 0.95),
    );
    Ok(())
}
