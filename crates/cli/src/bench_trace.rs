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
async fn generate(url: &str, rows: u64, now: i64) -> Result<(Vec<i64>, f64)> {
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
    conn.execute("DELETE FROM visits; DROP INDEX visits_location; DROP INDEX visits_citizen")
        .await
        .map_err(ex)?;
    let locations = (rows / 2_000).max(10) as i64;
    let people = (rows / 10).max(100) as i64;
    let start = now - DAYS * 86_400;
    let cases: Vec<i64> = (0..CASES as i64)
        .map(|i| FIRST_CITIZEN + people + i)
        .collect();
    let mut rng = Rng::new(2021);
    let mut case_visits = Vec::new();
    for &c in &cases {
        for d in 0..14 * 3 {
            let entered = now - 14 * 86_400 + d * 8 * 3600 + rng.below(3600) as i64;
            let location = 1 + rng.below(locations as u64) as i64;
            case_visits.push((
                location,
                c,
                entered,
                Some(entered + 60 * (15 + rng.below(106) as i64)),
            ));
        }
    }
    let t = Instant::now();
    let pb = indicatif::ProgressBar::new(rows);
    pb.set_style(
        indicatif::ProgressStyle::with_template(
            "generating visits {bar:30} {pos}/{len} {per_sec} {eta}",
        )
        .expect("valid template"),
    );
    let mut written = 0u64;
    let mut pending = case_visits.into_iter();
    while written < rows {
        let mut tx = conn.begin().await.map_err(ex)?;
        for _ in 0..200 {
            let n = 500.min((rows - written) as usize);
            if n == 0 {
                break;
            }
            let mut batch: Vec<(i64, i64, i64, Option<i64>)> = pending.by_ref().take(n).collect();
            while batch.len() < n {
                let entered = start + rng.below((DAYS * 86_400) as u64) as i64;
                let exit = (rng.below(10) > 0).then(|| entered + 60 * (15 + rng.below(106) as i64));
                batch.push((
                    1 + rng.below(locations as u64) as i64,
                    FIRST_CITIZEN + rng.below(people as u64) as i64,
                    entered,
                    exit,
                ));
            }
            let sql = format!(
                "INSERT INTO visits (location_id, citizen, entered_at, exited_at) VALUES {}",
                values_placeholders(Backend::of_url(url), n, 4)
            );
            let q = batch.iter().fold(sqlx::query(AssertSqlSafe(sql)), |q, v| {
                q.bind(v.0).bind(v.1).bind(v.2).bind(v.3)
            });
            q.execute(&mut *tx).await.map_err(ex)?;
            written += n as u64;
        }
        tx.commit().await.map_err(ex)?;
        pb.set_position(written);
    }
    pb.set_message("indexing");
    // The unique index of the schema would refuse the rare random repeat; the benchmark keeps a plain one.
    conn.execute(
        "CREATE INDEX visits_location ON visits (location_id, entered_at, exited_at, citizen); \
                  CREATE INDEX visits_citizen ON visits (citizen, entered_at, location_id)",
    )
    .await
    .map_err(ex)?;
    if !sqlite {
        conn.execute("ANALYZE visits").await.map_err(ex)?;
    }
    pb.finish_and_clear();
    Ok((cases, t.elapsed().as_secs_f64()))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub async fn bench_trace(store: &Store, url: &str, backend: &str, rows: u64) -> Result<()> {
    let rules = Rules::default();
    let now = chrono::Utc::now().timestamp();
    let (cases, load_secs) = generate(url, rows, now).await?;
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
    conn.execute("DELETE FROM visits; DROP INDEX visits_citizen; CREATE UNIQUE INDEX visits_citizen ON visits (citizen, entered_at, location_id)")
        .await
        .map_err(|e| e.to_string())?;
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
