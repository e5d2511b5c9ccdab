//! `kiemdich bench scans --batch N`: offline scanners syncing their queues, N scans a request to
//! `POST /api/v1/scans/batch`, every scan new and acknowledged only once durable. Reported in scans/s beside the
//! raw batched insert of as many rows (the storage ceiling), with the rows the database holds afterwards
//! counted, so that a batch answered 200 with refused items cannot pass for ingestion.

use crate::Result;
use crate::bench::{
    BenchArgs, BenchServer, bench_place, bench_server, issue_passes, raw_presence_insert,
};
use crate::bench_load::{self, Load};
use serde_json::json;
use sqlx::Connection;
use std::path::Path;
use std::sync::Arc;

/// One batch body: `n` scans of the passes from `first` on, keyed `{key}-{k}` (`key` is unique per request).
fn batch_body(passes: &[String], place: i64, first: usize, n: usize, key: &str) -> String {
    let scans: Vec<serde_json::Value> = (0..n)
        .map(|k| {
            let i = first + k;
            json!({"location_id": place, "token": passes[i % passes.len()], "direction": if i.is_multiple_of(2) { "in" } else { "out" },
                   "idempotency_key": format!("{key}-{k}")})
        })
        .collect();
    json!({ "scans": scans }).to_string()
}

/// Presence rows in the database behind the server.
async fn presence_rows(url: &str) -> Result<i64> {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    sqlx::query_scalar("SELECT COUNT(*) FROM presence_events")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| e.to_string())
}

/// The database URL of a bench server made under `tmp` by [`bench_server`].
fn database_url(tmp: &Path, name: &str, pg: Option<&str>) -> String {
    pg.map_or_else(
        || format!("sqlite://{}", tmp.join(name).join("kiemdich.db").display()),
        str::to_owned,
    )
}

/// One generator's line of the table: scans/s (requests/s × batch), latency per batch, CPU, and the rows it
/// added to the database (from `before` to `after`) against what its answers acknowledged. The rows the log
/// held before matter: each scan dirties a page of the person index, and the larger the log, the fewer scans
/// of a group share one (over 20 s instead of 8, both generators' rates fell by a fifth).
fn line(
    backend: &str,
    args: &BenchArgs,
    generator: &str,
    load: &Load,
    (before, after): (i64, i64),
    anchor: f64,
) {
    let n = f64::from(args.batch.unwrap_or(1));
    println!(
        "| scans ingested in batches of {n} over HTTP, durable, {backend}, {} connections, {} people, {generator} | {:.0} scans/s ({}; {} rows stored for {:.0} acknowledged, into a log of {before} rows) | raw batched insert {anchor:.0} rows/s | ≥ 100,000 scans/s |",
        args.concurrency,
        args.people,
        load.per_sec() * n,
        load.describe("batches"),
        after - before,
        load.ok as f64 * n,
    );
}

pub(crate) async fn bench_batch(tmp: &Path, args: &BenchArgs, pg: Option<&str>) -> Result<()> {
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let name = format!("batch-{backend}");
    let server: BenchServer = bench_server(tmp, &name, pg).await?;
    let officer =
        crate::config::create_token(&server.state.store, "bench", "officer", "94").await?;
    let passes = Arc::new(
        issue_passes(
            &server.base,
            &officer,
            &server.declarations,
            usize::from(args.people),
        )
        .await?,
    );
    let place = bench_place(&server.state.store).await?;
    let device =
        crate::config::create_token(&server.state.store, "bench scanner", "checkpoint", "94")
            .await?;
    let n = usize::from(args.batch.unwrap_or(1));
    let url = format!("{}/api/v1/scans/batch", server.base);
    let db = database_url(tmp, &name, pg);
    let before = presence_rows(&db).await?;
    let shared = passes.clone();
    let builtin = bench_load::builtin(
        &url,
        &device,
        args.concurrency,
        args.seconds,
        Arc::new(move |i| batch_body(&shared, place, i * n, n, &format!("b{i}"))),
    )
    .await?;
    let after_builtin = presence_rows(&db).await?;
    // wrk replaces every `@KEY@` of a body by one key per request; the suffix tells the scans apart.
    let bodies: Vec<String> = (0..passes.len() / n)
        .map(|b| batch_body(&passes, place, b * n, n, "@KEY@"))
        .collect();
    let wrk = bench_load::wrk(tmp, &url, &device, args.concurrency, args.seconds, &bodies).await?;
    let after_wrk = presence_rows(&db).await?;
    server.task.abort();
    let anchor = raw_presence_insert(&db, place, builtin.ok.max(1) * n).await?;
    line(
        backend,
        args,
        "built-in generator",
        &builtin,
        (before, after_builtin),
        anchor,
    );
    if let Some(wrk) = wrk {
        line(
            backend,
            args,
            "wrk",
            &wrk,
            (after_builtin, after_wrk),
            anchor,
        );
    }
    Ok(())
}
