//! `kiemdich bench`: measures the performance targets of DESIGN.md side by side with their anchors in one run
//! and prints a table. Run it on a release build: `cargo run --release -- bench`.

use crate::Result;
use crate::bench_load;
use crate::config::StoreArgs;
use crate::import::{POPULATION_HEADER, import_population, memory_kib};
use crate::synth::{self, Rng};
use chrono::{Duration as Days, Utc};
use clap::Args;
use kiemdich_domain::HealthStatus;
use kiemdich_pass::{
    Holder, PassClaims, PassId, SigningKey, TrustList, TrustedKey, Verifier, encode,
};
use kiemdich_store::{Backend, Store, values_placeholders};
use serde_json::json;
use sqlx::{AssertSqlSafe, Connection, Executor};
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Args)]
pub struct BenchArgs {
    /// Which benchmarks: pass, import, declare, scans, trace, map, doses, fhir, results, book, memory (default:
    /// all).
    #[arg(value_parser = ["pass", "import", "declare", "scans", "trace", "map", "doses", "fhir", "results", "book", "memory"])]
    which: Vec<String>,
    /// Residents of the province the memory benchmark serves (Sóc Trăng has 1.2 million).
    #[arg(long, default_value_t = 1_200_000)]
    pub residents: u64,
    /// Keep the memory benchmark's province in this directory and reuse it on the next run (it takes a while to
    /// build); a fresh one in a temporary directory when not given.
    #[arg(long)]
    pub province_dir: Option<std::path::PathBuf>,
    /// Visits in the synthetic presence log of the tracing benchmark (100,000,000 for national scale).
    #[arg(long, default_value_t = 2_000_000)]
    visits: u64,
    /// Only the PostgreSQL side of the declaration, scan and tracing benchmarks (with --pg): 100 million visits on
    /// SQLite take hours to load.
    #[arg(long, requires = "pg")]
    pg_only: bool,
    /// Tracing benchmark on PostgreSQL: reuse a visit log of the same size already loaded (by an earlier run
    /// with this flag, which leaves it in place) instead of generating it again.
    #[arg(long)]
    reuse_visits: bool,
    /// Rows in the registry import benchmark.
    #[arg(long, default_value_t = 300_000)]
    rows: u64,
    /// Doses in the dose-write benchmark.
    #[arg(long, default_value_t = 100_000)]
    doses: usize,
    /// Results in the result-import benchmark.
    #[arg(long, default_value_t = 200_000)]
    results: usize,
    /// Seconds of load in the declaration benchmark.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Concurrent clients in the declaration benchmark.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Also run the benchmarks against this PostgreSQL database (its residents and visits are emptied).
    #[arg(long, alias = "db", env = "KIEMDICH_BENCH_PG_URL")]
    pub pg: Option<String>,
    /// Scans per request in the scans benchmark: an offline scanner's batch sync (`POST /api/v1/scans/batch`,
    /// at most 500) instead of one scan a request.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=500))]
    pub batch: Option<u16>,
    /// Distinct people the scans benchmark scans, round and round (each a pass of its own). The more there
    /// are, the fewer scans of a group land on one page of the person index: 2,000 is a busy venue's day,
    /// 20,000 (the most, every resident of the benchmark's registry) a district's checkpoints.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u16).range(1..=i64::from(BENCH_RESIDENTS)))]
    pub people: u16,
}

pub async fn run(args: BenchArgs) -> Result<()> {
    let all = args.which.is_empty();
    let wants = |w: &str| all || args.which.iter().any(|x| x == w);
    println!(
        "machine: {} cores, {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cpu_model()
    );
    println!("\n| benchmark | result | anchor (same run) | target |\n|---|---|---|---|");
    if wants("pass") {
        bench_pass();
    }
    let tmp = tempdir()?;
    let pg = args.pg.as_deref();
    if wants("import") {
        bench_import(&tmp, args.rows, None).await?;
        if let Some(url) = pg {
            bench_import(&tmp, args.rows, Some(url)).await?;
        }
    }
    // SQLite (None) unless --pg-only, then PostgreSQL when given.
    let databases: Vec<Option<&str>> = (!args.pg_only)
        .then_some(None)
        .into_iter()
        .chain(pg.map(Some))
        .collect();
    for &db in &databases {
        if wants("declare") {
            bench_declare(&tmp, &args, db).await?;
        }
    }
    for &db in &databases {
        if wants("scans") && args.batch.is_some() {
            crate::bench_batch::bench_batch(&tmp, &args, db).await?;
        } else if wants("scans") {
            bench_scans(&tmp, &args, db).await?;
        }
    }
    if wants("trace") {
        if !args.pg_only {
            let dir = tmp.join("trace-SQLite");
            let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
            let store = open(&dir, None).await?;
            crate::bench_trace::bench_trace(&store, &url, "SQLite", args.visits, false).await?;
        }
        if let Some(url) = pg {
            let store = open(&tmp, Some(url)).await?;
            crate::bench_trace::bench_trace(
                &store,
                url,
                "PostgreSQL",
                args.visits,
                args.reuse_visits,
            )
            .await?;
        }
    }
    if wants("doses") {
        let dir = tmp.join("doses-SQLite");
        let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
        let store = open(&dir, None).await?;
        crate::bench_doses::bench_doses(&store, &url, "SQLite", args.doses).await?;
        if let Some(url) = pg {
            let store = open(&tmp, Some(url)).await?;
            crate::bench_doses::bench_doses(&store, url, "PostgreSQL", args.doses).await?;
        }
    }
    if wants("results") {
        let dir = tmp.join("results-SQLite");
        let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
        let store = open(&dir, None).await?;
        crate::bench_results::bench_results(&store, &url, "SQLite", args.results).await?;
        if let Some(url) = pg {
            let store = open(&tmp, Some(url)).await?;
            crate::bench_results::bench_results(&store, url, "PostgreSQL", args.results).await?;
        }
    }
    if wants("fhir") {
        let server = bench_server(&tmp, "fhir-SQLite", None).await?;
        crate::bench_fhir::bench_fhir(&server, "SQLite", 10_000).await?;
        server.task.abort();
    }
    if wants("map") {
        crate::bench_map::bench_map(&tmp, args.seconds).await?;
    }
    if wants("book") {
        let server = bench_server(&tmp, "book-SQLite", None).await?;
        crate::bench_book::bench_book(&server, "SQLite").await?;
        server.task.abort();
        if let Some(url) = pg {
            let server = bench_server(&tmp, "book-PostgreSQL", Some(url)).await?;
            crate::bench_book::bench_book(&server, "PostgreSQL").await?;
            server.task.abort();
        }
    }
    if wants("memory") {
        crate::bench_memory::bench_memory(&tmp, &args, None).await?;
        if let Some(url) = pg {
            crate::bench_memory::bench_memory(&tmp, &args, Some(url)).await?;
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_default()
}

fn tempdir() -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("kiemdich-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Mean nanoseconds per call of `a` and of `b` over `n` calls, alternating rounds so that both see the same
/// machine state, and keeping each one's best round (the least disturbed by other work on a shared VM).
fn time_pair(n: u32, mut a: impl FnMut(), mut b: impl FnMut()) -> (f64, f64) {
    let round = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(n)
    };
    (0..7).fold((f64::INFINITY, f64::INFINITY), |(ba, bb), _| {
        (ba.min(round(&mut a)), bb.min(round(&mut b)))
    })
}

fn bench_pass() {
    let key = SigningKey::generate();
    let now = Utc::now();
    let claims = PassClaims {
        issuer: "VN-94".into(),
        pass_id: PassId::random(),
        issued_at: now,
        expires_at: now + Days::hours(72),
        holder: Holder {
            name: "Nguyễn Thị Phương Thảo".into(),
            birth_year: 1990,
            masked_id: "094******456".into(),
            status: HealthStatus::Green,
            commune: "31498".into(),
            // A full pass: two doses and the last one's date.
            vaccination: kiemdich_domain::VaccinationSummary {
                doses: 2,
                last_dose: chrono::NaiveDate::from_ymd_opt(2021, 9, 12),
            },
        },
    };
    let token = encode(&claims, &key);
    let list = TrustList {
        issuer: "VN-94".into(),
        generated_at: now,
        keys: vec![TrustedKey::ed25519(
            &key.public_key(),
            now - Days::days(1),
            None,
        )],
        revoked: vec![],
    };
    let verifier = Verifier::new(&list).expect("valid trust list");
    // The anchor verifies the pass's own signature over its own COSE Sig_structure, nothing else.
    let cose = kiemdich_pass::base45::decode(&token[4..]).expect("own token decodes");
    let sign1 = <coset::CoseSign1 as coset::TaggedCborSerializable>::from_tagged_slice(&cose)
        .expect("own token parses");
    let (tbs, sig) = (
        sign1.tbs_data(b""),
        ed25519_dalek::Signature::from_slice(&sign1.signature).expect("64 bytes"),
    );
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&key.public_key()).expect("valid key");
    let (ours, anchor) = time_pair(
        10_000,
        || assert!(verifier.verify(std::hint::black_box(&token), now).is_ok()),
        || assert!(vk.verify_strict(std::hint::black_box(&tbs), &sig).is_ok()),
    );
    println!(
        "| KD1 verify ({} chars) | {:.1} µs | ed25519 verify_strict {:.1} µs; overhead {:+.1}% | within 15% |",
        token.len(),
        ours / 1000.0,
        anchor / 1000.0,
        (ours / anchor - 1.0) * 100.0
    );
}

fn write_population_csv(path: &Path, rows: u64, communes: &[String]) -> Result<()> {
    let mut w = csv::Writer::from_path(path).map_err(|e| e.to_string())?;
    w.write_record(POPULATION_HEADER.required)
        .map_err(|e| e.to_string())?;
    let mut rng = Rng::new(42);
    for i in 0..rows {
        let p = synth::person(&mut rng, i, communes);
        w.write_record([
            &p.citizen_id,
            &p.full_name,
            &p.date_of_birth,
            &p.sex,
            &p.commune_code,
            &p.address,
            &p.phone,
        ])
        .map_err(|e| e.to_string())?;
    }
    w.flush().map_err(|e| e.to_string())
}

/// A plain connection to the database of `dir` (or `pg`), beside the store, and its URL: for anchors and
/// fixtures written without the store's rules.
pub(crate) async fn connect_raw(
    dir: &Path,
    pg: Option<&str>,
) -> Result<(sqlx::AnyConnection, String)> {
    let url = pg.map_or_else(
        || format!("sqlite://{}", dir.join("kiemdich.db").display()),
        str::to_owned,
    );
    let conn = sqlx::AnyConnection::connect(&url)
        .await
        .map_err(|e| e.to_string())?;
    Ok((conn, url))
}

pub(crate) async fn open(dir: &Path, pg: Option<&str>) -> Result<Store> {
    StoreArgs::new(Some(dir.to_owned()), pg.map(str::to_owned))
        .open()
        .await
}

/// The anchor: the same rows, unvalidated, in multi-row INSERTs of the same size, one transaction per 50,000.
async fn raw_insert(url: &str, csv_path: &Path) -> Result<u64> {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    if url.starts_with("sqlite") {
        // The same settings the store uses, so the anchor differs only in skipping validation and upsert.
        conn.execute("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 10000; PRAGMA cache_size = -65536")
            .await
            .map_err(|e| e.to_string())?;
    }
    conn.execute("DELETE FROM residents")
        .await
        .map_err(|e| e.to_string())?;
    let mut reader = csv::Reader::from_path(csv_path).map_err(|e| e.to_string())?;
    let mut records = reader.records();
    let mut total = 0u64;
    loop {
        let chunk: Vec<csv::StringRecord> = records
            .by_ref()
            .take(50_000)
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| e.to_string())?;
        if chunk.is_empty() {
            break;
        }
        total += chunk.len() as u64;
        let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
        for part in chunk.chunks(500) {
            // Anonymous parameters on SQLite, numbered on PostgreSQL: the fastest each driver offers.
            let values = values_placeholders(Backend::of_url(url), part.len(), 8);
            let sql = format!(
                "INSERT INTO residents (citizen_id, full_name, name_folded, date_of_birth, sex, commune_code, address, phone) VALUES {values}"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for rec in part {
                q = q
                    .bind(rec[0].to_owned())
                    .bind(rec[1].to_owned())
                    .bind(rec[1].to_lowercase())
                    .bind(rec[2].to_owned())
                    .bind(rec[3].to_owned())
                    .bind(rec[4].to_owned())
                    .bind(rec[5].to_owned())
                    .bind(rec[6].to_owned());
            }
            q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(total)
}

async fn bench_import(tmp: &Path, rows: u64, pg: Option<&str>) -> Result<()> {
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let dir = tmp.join(format!("import-{backend}"));
    let store = open(&dir, pg).await?;
    let communes: Vec<String> = store
        .units()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|u| u.code.as_str().len() == 5)
        .map(|u| u.code.to_string())
        .collect();
    let csv_path = tmp.join("population.csv");
    if !csv_path.exists() {
        write_population_csv(&csv_path, rows, &communes)?;
    }
    let (mut conn, url) = connect_raw(&dir, pg).await?;
    conn.execute("DELETE FROM residents")
        .await
        .map_err(|e| e.to_string())?;
    let sampler = RssSampler::start();
    let report = import_population(&store, &csv_path, false).await?;
    let rss = sampler.stop();
    let ours = report.read as f64 / report.elapsed.as_secs_f64();
    let again = import_population(&store, &csv_path, false).await?;
    let anchor_start = Instant::now();
    let anchor_rows = raw_insert(&url, &csv_path).await?;
    let anchor = anchor_rows as f64 / anchor_start.elapsed().as_secs_f64();
    println!(
        "| registry import, {backend}, {} rows | {:.0} rows/s; RSS at 25/50/75/100% of the run {} MiB; re-import {:.0} rows/s, {} written | raw batched insert {:.0} rows/s | ≥ 100,000 rows/s, flat memory |",
        report.read,
        ours,
        rss,
        again.read as f64 / again.elapsed.as_secs_f64(),
        again.counts.written,
        anchor
    );
    store.close().await;
    Ok(())
}

/// Samples this process's resident memory every 50 ms on a thread of its own.
struct RssSampler {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<Vec<u64>>,
}

impl RssSampler {
    fn start() -> RssSampler {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut samples = Vec::new();
            while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                samples.push(memory_kib().0);
                std::thread::sleep(Duration::from_millis(50));
            }
            samples
        });
        RssSampler { stop, thread }
    }

    /// Stops and formats the samples at each quarter of the run, in MiB.
    fn stop(self) -> String {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let samples = self.thread.join().unwrap_or_default();
        let at = |q: usize| {
            samples
                .get((samples.len() * q / 4).min(samples.len().saturating_sub(1)))
                .map_or(0, |kib| kib / 1024)
        };
        format!("{}/{}/{}/{}", at(1), at(2), at(3), at(4))
    }
}

/// The residents of a benchmark server's registry.
const BENCH_RESIDENTS: u16 = 20_000;

/// A server over a fresh database with [`BENCH_RESIDENTS`] residents, and their declaration bodies.
pub(crate) struct BenchServer {
    pub state: kiemdich_server::AppState,
    pub base: String,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    pub declarations: Vec<String>,
}

/// The KEK of a benchmark's PostgreSQL database when `KIEMDICH_KEK` gives none: the same every run, and no
/// secret (the database is a benchmark's, its residents and visits emptied on every run).
const BENCH_KEK: &str = "6b69656d646963682d62656e63686d61726b2d6b656b2d6e6f74736563726574";

/// The seed of the benchmarks' synthetic residents.
pub(crate) const BENCH_SEED: u64 = 7;

/// Declaration bodies for the first `n` residents `populate` put in the registry with `seed`, exactly.
pub(crate) fn declaration_bodies(seed: u64, communes: &[String], n: usize) -> Vec<String> {
    synth::registry(seed, communes)
        .take(n)
        .map(|p| {
            json!({"people": [{"citizen_id": p.citizen_id, "full_name": p.full_name, "date_of_birth": p.date_of_birth, "sex": p.sex,
                               "phone": p.phone, "commune_code": p.commune_code, "symptoms": [], "exposures": []}], "consent": true})
            .to_string()
        })
        .collect()
}

pub(crate) async fn bench_server(tmp: &Path, name: &str, pg: Option<&str>) -> Result<BenchServer> {
    let mut store_args = StoreArgs::new(Some(tmp.join(name)), pg.map(str::to_owned));
    // Each run's data directory is new, and with it the KEK generated there: on PostgreSQL a second run would
    // find the first run's keys sealed under another KEK, and refuse to start.
    if pg.is_some() && store_args.kek.is_none() {
        store_args.kek = Some(BENCH_KEK.into());
    }
    let state = store_args.state().await?;
    let people = u64::from(BENCH_RESIDENTS);
    crate::demo::populate(&state.store, people, BENCH_SEED, false).await?;
    let mut communes: Vec<String> = state
        .units()
        .communes()
        .map(|u| u.code.to_string())
        .collect();
    communes.sort();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| e.to_string())?;
    let base = format!(
        "http://{}",
        listener.local_addr().map_err(|e| e.to_string())?
    );
    let task = tokio::spawn(kiemdich_server::serve(listener, state.clone()));
    let declarations = declaration_bodies(BENCH_SEED, &communes, people as usize);
    Ok(BenchServer {
        state,
        base,
        task,
        declarations,
    })
}

async fn bench_declare(tmp: &Path, args: &BenchArgs, pg: Option<&str>) -> Result<()> {
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let server = bench_server(tmp, &format!("declare-{backend}"), pg).await?;
    let token = crate::config::create_token(&server.state.store, "bench", "officer", "94").await?;
    let url = format!("{}/api/v1/declarations", server.base);
    let bodies = std::sync::Arc::new(server.declarations);
    let shared = bodies.clone();
    let builtin = bench_load::builtin(
        &url,
        &token,
        args.concurrency,
        args.seconds,
        std::sync::Arc::new(move |i| shared[i % shared.len()].clone()),
    )
    .await?;
    let wrk = bench_load::wrk(tmp, &url, &token, args.concurrency, args.seconds, &bodies).await?;
    let ceiling =
        bench_load::http_ceiling(tmp, &server.base, args.concurrency, args.seconds).await?;
    server.task.abort();
    for (generator, result) in [("built-in generator", Some(builtin)), ("wrk", wrk)] {
        let Some(result) = result else { continue };
        println!(
            "| declaration → pass over HTTP, {backend}, {} connections, {generator} | {} | {ceiling} | ≥ 3,000/s |",
            args.concurrency,
            result.describe("declarations")
        );
    }
    Ok(())
}

/// Passes to scan: declares the first `n` residents through the API at `base` as `officer` and keeps their tokens.
pub(crate) async fn issue_passes(
    base: &str,
    officer: &str,
    declarations: &[String],
    n: usize,
) -> Result<Vec<String>> {
    let client = reqwest::Client::new();
    let mut tokens = Vec::with_capacity(n);
    for chunk in declarations[..n].chunks(64) {
        let sends = chunk.iter().map(|b| {
            let req = client
                .post(format!("{base}/api/v1/declarations"))
                .bearer_auth(officer)
                .header("content-type", "application/json")
                .body(b.clone());
            tokio::spawn(async move { req.send().await?.json::<serde_json::Value>().await })
        });
        for s in sends.collect::<Vec<_>>() {
            let v = s
                .await
                .map_err(|e| e.to_string())?
                .map_err(|e| e.to_string())?;
            tokens.push(
                v["people"][0]["pass"]["token"]
                    .as_str()
                    .ok_or("declaration gave no pass")?
                    .to_owned(),
            );
        }
    }
    Ok(tokens)
}

/// The place the scan benchmarks scan at: a hospital of commune 31498 that admits every status.
pub(crate) async fn bench_place(store: &Store) -> Result<i64> {
    store
        .create_location(
            "bench",
            &kiemdich_store::NewPlace {
                name: "Bệnh viện",
                kind: kiemdich_domain::LocationKind::Hospital,
                commune_code: "31498",
                address: "",
                coords: (9.6, 105.97),
                operator_org: "",
                dwell_minutes: 60,
                admits: kiemdich_domain::HealthStatus::ALL,
                vaccination: None,
                accepts_dcc: false,
            },
        )
        .await
        .map_err(|e| e.to_string())
}

/// The anchor: the same number of presence rows inserted raw, in groups as large as the server's.
pub(crate) async fn raw_presence_insert(url: &str, location: i64, rows: usize) -> Result<f64> {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    if url.starts_with("sqlite") {
        conn.execute("PRAGMA synchronous = FULL")
            .await
            .map_err(|e| e.to_string())?;
    }
    let start = Instant::now();
    for group in (0..rows).collect::<Vec<_>>().chunks(1024) {
        let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
        for part in group.chunks(500) {
            let values = values_placeholders(Backend::of_url(url), part.len(), 11);
            let sql = format!(
                "INSERT INTO presence_events (location_id, citizen_id, direction, at, device, method, decision, reason, idempotency_key, request_hash, received_at) VALUES {values}"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for i in part {
                q = q
                    .bind(location)
                    .bind("094090123456")
                    .bind("in")
                    .bind(0i64)
                    .bind("anchor")
                    .bind("pass")
                    .bind("admit")
                    .bind("valid")
                    .bind(format!("anchor-{i}"))
                    .bind("-")
                    .bind(0i64);
            }
            q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(rows as f64 / start.elapsed().as_secs_f64())
}

async fn bench_scans(tmp: &Path, args: &BenchArgs, pg: Option<&str>) -> Result<()> {
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let server = bench_server(tmp, &format!("scans-{backend}"), pg).await?;
    let officer =
        crate::config::create_token(&server.state.store, "bench", "officer", "94").await?;
    let people = usize::from(args.people);
    let passes = std::sync::Arc::new(
        issue_passes(&server.base, &officer, &server.declarations, people).await?,
    );
    let place = bench_place(&server.state.store).await?;
    let device =
        crate::config::create_token(&server.state.store, "bench scanner", "checkpoint", "94")
            .await?;
    let scan = |token: &str, i: usize, key: &str| {
        json!({"token": token, "direction": if i.is_multiple_of(2) { "in" } else { "out" }, "idempotency_key": key}).to_string()
    };
    let url = format!("{}/api/v1/locations/{place}/scans", server.base);
    let shared = passes.clone();
    let builtin = bench_load::builtin(
        &url,
        &device,
        args.concurrency,
        args.seconds,
        std::sync::Arc::new(move |i| scan(&shared[i % shared.len()], i, &format!("bench-{i}"))),
    )
    .await?;
    let bodies: Vec<String> = passes
        .iter()
        .enumerate()
        .map(|(i, token)| scan(token, i, "@KEY@"))
        .collect();
    let wrk = bench_load::wrk(tmp, &url, &device, args.concurrency, args.seconds, &bodies).await?;
    let ceiling =
        bench_load::http_ceiling(tmp, &server.base, args.concurrency, args.seconds).await?;
    let (held, book_bytes) = server.state.store.book_size();
    server.task.abort();
    let url = pg.map_or_else(
        || {
            format!(
                "sqlite://{}",
                tmp.join(format!("scans-{backend}"))
                    .join("kiemdich.db")
                    .display()
            )
        },
        str::to_owned,
    );
    let anchor = raw_presence_insert(&url, place, builtin.ok.max(1)).await?;
    let target = if pg.is_some() {
        "≥ 10,000/s"
    } else {
        "≥ 20,000/s, p99 ≤ 25 ms"
    };
    for (generator, result) in [("built-in generator", Some(builtin)), ("wrk", wrk)] {
        let Some(result) = result else { continue };
        println!(
            "| scans over HTTP, durable, {backend}, {} connections, {people} people, {generator} | {} | raw batched insert {anchor:.0} rows/s; {ceiling} | {target} |",
            args.concurrency,
            result.describe("scans"),
        );
    }
    // Every scan repeats one of the passes issued above: all are in the book once its first poll has run.
    println!(
        "| pass book after the scans, {backend} | {held} live passes held in {book_bytes} bytes ({:.0} per pass) | — | ≤ 150 MB RSS with a province |",
        book_bytes as f64 / held.max(1) as f64
    );
    Ok(())
}
