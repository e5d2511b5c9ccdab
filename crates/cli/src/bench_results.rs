//! The result import (`kiemdich import results`): a laboratory's CSV of results, 1% positive, each batch
//! checked and written with its effects (an F0 case per PCR positive with its pass revocations and notices,
//! an SMS per result, the samples marked tested, the audit) in one transaction per 10,000 lines; beside a raw
//! multi-row INSERT of the same result rows in one transaction per batch, and the same file imported again
//! (every line unchanged).

use crate::Result;
use crate::synth::{self, Rng};
use kiemdich_domain::RegistryRecord;
use kiemdich_domain::testing::{LabelKind, label};
use kiemdich_store::{Backend, Store, values_placeholders};
use sqlx::{AssertSqlSafe, Connection, Executor};
use std::io::Write as _;
use std::path::Path;
use std::time::Instant;

/// Rows per transaction of the anchor, as the import's batches.
const BATCH: usize = 10_000;

/// The people, one sample each (collected, PCR), written straight into the tables.
async fn seed(store: &Store, url: &str, backend: Backend, n: usize) -> Result<i64> {
    let mut rng = Rng::new(12);
    let communes = vec!["31498".to_owned(), "31501".to_owned(), "31504".to_owned()];
    let people: Vec<RegistryRecord> = synth::registry(7, &communes)
        .take(n)
        .map(|raw| RegistryRecord::parse(&raw).map_err(|e| e.to_string()))
        .collect::<Result<_>>()?;
    store
        .upsert_residents(&people)
        .await
        .map_err(|e| e.to_string())?;
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    let first: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM samples")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let collected = chrono::Utc::now().timestamp() - 86_400;
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    for (c, chunk) in people.chunks(500).enumerate() {
        // Ids are given, as the labels are made of them (PostgreSQL's identity column must be told).
        let overriding = if backend == Backend::Postgres {
            "OVERRIDING SYSTEM VALUE "
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO samples (id, label, citizen_id, commune_code, reason, test_type, status, ordered_by, ordered_at, collected_at) {overriding}VALUES {}",
            values_placeholders(backend, chunk.len(), 10)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (i, p) in chunk.iter().enumerate() {
            let id = first + i64::try_from(c * 500 + i).unwrap_or(0);
            let reason = if rng.below(10) == 0 {
                "f1"
            } else {
                "screening"
            };
            q = q
                .bind(id)
                .bind(label(LabelKind::Sample, id))
                .bind(p.citizen_id.as_str().to_owned())
                .bind(p.commune_code.as_str().to_owned())
                .bind(reason)
                .bind("pcr")
                .bind("collected")
                .bind("bench")
                .bind(collected)
                .bind(collected);
        }
        q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
    }
    tx.commit().await.map_err(|e| e.to_string())?;
    if backend == Backend::Postgres {
        conn.execute(
            "SELECT setval(pg_get_serial_sequence('samples', 'id'), (SELECT MAX(id) FROM samples))",
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    Ok(first)
}

/// The laboratory's file: one line per sample, 1 in 100 positive, by label.
fn write_csv(path: &Path, first: i64, n: usize) -> Result<()> {
    let file = std::fs::File::create(path).map_err(|e| e.to_string())?;
    let mut w = std::io::BufWriter::new(file);
    let tested = chrono::Utc::now() - chrono::Duration::hours(2);
    let at = tested.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    writeln!(w, "sample_id,result,tested_at,lab,ct").map_err(|e| e.to_string())?;
    for i in 0..n {
        let id = first + i64::try_from(i).unwrap_or(0);
        let (result, ct) = if i % 100 == 37 {
            ("positive", "24.5")
        } else {
            ("negative", "")
        };
        writeln!(
            w,
            "{},{result},{at},CDC Sóc Trăng,{ct}",
            label(LabelKind::Sample, id)
        )
        .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// The same results by a raw multi-row INSERT (no lookups, no effects), one transaction per batch.
async fn raw_insert(url: &str, backend: Backend, first: i64, n: usize) -> Result<f64> {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    conn.execute("UPDATE results SET case_id = NULL")
        .await
        .map_err(|e| e.to_string())?;
    conn.execute("DELETE FROM results")
        .await
        .map_err(|e| e.to_string())?;
    let tested = chrono::Utc::now().timestamp() - 7_200;
    let ids: Vec<i64> = (0..n)
        .map(|i| first + i64::try_from(i).unwrap_or(0))
        .collect();
    let start = Instant::now();
    for batch in ids.chunks(BATCH) {
        let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
        for chunk in batch.chunks(500) {
            let sql = format!(
                "INSERT INTO results (sample_id, result, tested_at, lab, ct, entered_by, entered_at, source) VALUES {}",
                values_placeholders(backend, chunk.len(), 8)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q
                    .bind(*id)
                    .bind("negative")
                    .bind(tested)
                    .bind("CDC Sóc Trăng")
                    .bind(None::<f64>)
                    .bind("bench")
                    .bind(tested)
                    .bind("csv");
            }
            q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

pub async fn bench_results(store: &Store, url: &str, backend: &str, n: usize) -> Result<()> {
    let first = seed(store, url, store.backend(), n).await?;
    let dir = tempfile_dir()?;
    let csv = dir.join("results.csv");
    write_csv(&csv, first, n)?;
    let report = crate::import::import_results(store, &csv, BATCH, false).await?;
    let ours = report.read as f64 / report.elapsed.as_secs_f64();
    let cases: i64 = {
        let mut conn = sqlx::AnyConnection::connect(url)
            .await
            .map_err(|e| e.to_string())?;
        sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE source = 'test_result'")
            .fetch_one(&mut conn)
            .await
            .map_err(|e| e.to_string())?
    };
    let again = crate::import::import_results(store, &csv, BATCH, false).await?;
    let again_rate = again.read as f64 / again.elapsed.as_secs_f64();
    let anchor = raw_insert(url, store.backend(), first, n).await?;
    println!(
        "| result import (kiemdich import results), {backend}, {n} lines, 1% positive, batches of 10,000 | {ours:.0} rows/s ({} written, {} rejected; {cases} F0 cases opened, an SMS per result); the same file again {again_rate:.0} rows/s ({} unchanged, {} written) | raw multi-row INSERT {anchor:.0} rows/s | ≥ 50,000 rows/s |",
        report.counts.written, report.rejected, again.counts.unchanged, again.counts.written
    );
    std::fs::remove_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(())
}

fn tempfile_dir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("kiemdich-bench-results-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}
