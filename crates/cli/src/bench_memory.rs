//! `kiemdich bench memory`: the resident memory of a `kiemdich serve` process holding a province (1.2 million
//! residents), idle, under a mixed load of scans, declarations, name searches and presence exports, at its peak
//! and after. The server is a process of its own so that its memory is nobody else's: the load generator and the
//! province builder run in this one. Memory is read from /proc/<pid>/status (VmRSS now, VmHWM the peak).

use crate::Result;
use crate::bench::{BENCH_SEED, BenchArgs, bench_place, declaration_bodies, issue_passes, open};
use crate::import::memory_kib_of;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Declarations issued before the load, whose passes the scanners present.
const PASSES: usize = 2_000;
/// Clients of each kind during the load: what a province's morning might mix.
const SCANNERS: usize = 16;
const DECLARERS: usize = 4;
const SEARCHERS: usize = 2;
const EXPORTERS: usize = 1;

#[derive(Clone, Copy)]
enum Work {
    Scan,
    Declare,
    Search,
    Export,
}

impl Work {
    const ALL: [(Work, usize); 4] = [
        (Work::Scan, SCANNERS),
        (Work::Declare, DECLARERS),
        (Work::Search, SEARCHERS),
        (Work::Export, EXPORTERS),
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// What the load needs to know of the province: where it is served, its credentials and what to send.
struct Load {
    base: String,
    officer: String,
    device: String,
    place: i64,
    declarations: Vec<String>,
    passes: Vec<String>,
    names: Vec<String>,
}

/// Successes and failures per kind of work.
#[derive(Default)]
struct Counts {
    ok: [AtomicU64; 4],
    failed: [AtomicU64; 4],
}

pub(crate) async fn bench_memory(tmp: &Path, args: &BenchArgs, pg: Option<&str>) -> Result<()> {
    let backend = if pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let dir = args
        .province_dir
        .clone()
        .unwrap_or_else(|| tmp.join(format!("memory-{backend}")));
    let built = Instant::now();
    let Province {
        officer,
        device,
        ops,
        place,
        communes,
    } = province(&dir, pg, args.residents).await?;
    let build_secs = built.elapsed().as_secs_f64();
    let mut server = Server::start(&dir, pg).await?;
    let declarations = declaration_bodies(BENCH_SEED, &communes, 20_000);
    // The load starts on a loaded pass book, as a server's mornings do (its load is in the peak all the same).
    let book_secs = server.book_loaded(&ops).await?;
    let passes = issue_passes(&server.base, &officer, &declarations, PASSES).await?;
    // Settle: the first refreshes and caches are built, then the server idles.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = server.memory().0;
    let names = crate::synth::registry(BENCH_SEED, &communes)
        .take(1_000)
        .map(|p| p.full_name)
        .collect();
    let load = Arc::new(Load {
        base: server.base.clone(),
        officer,
        device,
        place,
        declarations,
        passes,
        names,
    });
    let (counts, samples, secs) = run_load(&load, server.pid, args.seconds).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (after, peak) = server.memory();
    let book = server.book(&ops).await?;
    server.stop();
    let mean = samples.iter().sum::<u64>() / (samples.len() as u64).max(1);
    let max = samples.iter().copied().max().unwrap_or(0);
    let rate = |w: Work| counts.ok[w.index()].load(Ordering::Relaxed) as f64 / secs;
    let failed: u64 = counts
        .failed
        .iter()
        .map(|f| f.load(Ordering::Relaxed))
        .sum();
    println!(
        "| server memory, {backend}, {} residents (built or opened in {build_secs:.0} s, pass book loaded {book_secs:.0} s after start), {:.0} s of mixed load | idle {} MiB; under load mean {} / max {} MiB; peak (VmHWM) {} MiB; after {} MiB. Load: {:.0} scans/s, {:.0} declarations/s, {:.1} name searches/s, {:.1} presence exports/s, {failed} failed; the pass book {book} | — | ≤ 150 MB (143 MiB) |",
        args.residents,
        secs,
        mib(idle),
        mib(mean),
        mib(max),
        mib(peak),
        mib(after),
        rate(Work::Scan),
        rate(Work::Declare),
        rate(Work::Search),
        rate(Work::Export),
    );
    Ok(())
}

fn mib(kib: u64) -> u64 {
    kib / 1024
}

/// A province ready for the load: tokens of an officer, a checkpoint device and an operator, a place to scan
/// at and the communes.
struct Province {
    officer: String,
    device: String,
    ops: String,
    place: i64,
    communes: Vec<String>,
}

/// Opens the province in `dir` (or the PostgreSQL database), filling the registry up to `residents`.
async fn province(dir: &Path, pg: Option<&str>, residents: u64) -> Result<Province> {
    let store = open(dir, pg).await?;
    crate::config::ensure_key(&store, dir).await?;
    let have = store.count_residents().await.map_err(|e| e.to_string())?;
    if u64::try_from(have).unwrap_or(0) < residents {
        crate::demo::populate(&store, residents, BENCH_SEED, true).await?;
    }
    live_passes(dir, pg).await?;
    let officer = crate::config::create_token(&store, "bench", "officer", "94").await?;
    let device = crate::config::create_token(&store, "bench scanner", "checkpoint", "94").await?;
    let ops = crate::config::create_token(&store, "bench ops", "ops", "94").await?;
    let place = bench_place(&store).await?;
    let mut communes: Vec<String> = store
        .units()
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .filter(|u| u.level == kiemdich_domain::UnitLevel::Commune)
        .map(|u| u.code.to_string())
        .collect();
    communes.sort();
    store.close().await;
    Ok(Province {
        officer,
        device,
        ops,
        place,
        communes,
    })
}

/// Gives every resident a live pass, as in a province at its peak (a 72-hour pass, renewed by a third of its
/// holders each day, docs/scale.md), so that the server's pass book holds one per resident. Written straight into
/// the database (the tokens are placeholders: the book keeps only their digests) and renewed on each run.
async fn live_passes(dir: &Path, pg: Option<&str>) -> Result<()> {
    use sqlx::Connection;
    let (mut conn, _) = crate::bench::connect_raw(dir, pg).await?;
    let now = chrono::Utc::now().timestamp();
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    for renewed in [
        "DELETE FROM passes WHERE kid = 'bench-book'",
        "DELETE FROM declarations WHERE ref = 'bench-book'",
    ] {
        sqlx::query(renewed)
            .execute(&mut *tx)
            .await
            .map_err(|e| e.to_string())?;
    }
    // The declaration the passes name: one for all, as an officer's batch would be.
    let declaration: i64 = sqlx::query_scalar(
        "INSERT INTO declarations (ref, submitted_at, submitter, consent, body) \
         VALUES ('bench-book', $1, '{}', $2, '{}') RETURNING id",
    )
    .bind(now)
    .bind(true)
    .fetch_one(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    sqlx::query(
        "INSERT INTO passes (id, citizen_id, declaration_id, kid, status, issued_at, expires_at, token) \
         SELECT 'book-' || citizen_id, citizen_id, $3, 'bench-book', 'green', $1, $2, 'KD1:book-' || citizen_id \
         FROM residents",
    )
    .bind(now)
    .bind(now + 72 * 3600)
    .bind(declaration)
    .execute(&mut *tx)
    .await
    .map_err(|e| e.to_string())?;
    tx.commit().await.map_err(|e| e.to_string())
}

/// A `kiemdich serve` child process on a free local port.
struct Server {
    child: std::process::Child,
    /// When the process was started.
    started: Instant,
    pid: u32,
    base: String,
}

impl Server {
    async fn start(dir: &Path, pg: Option<&str>) -> Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let exe = std::env::current_exe().map_err(|e| e.to_string())?;
        let log = std::fs::File::create(dir.join("serve.log")).map_err(|e| e.to_string())?;
        let mut command = std::process::Command::new(exe);
        command
            .arg("serve")
            .arg("--data-dir")
            .arg(dir)
            .arg("--bind")
            .arg(format!("127.0.0.1:{port}"))
            .stdout(std::process::Stdio::null())
            .stderr(log);
        if let Some(url) = pg {
            command.arg("--db").arg(url);
        }
        let started = Instant::now();
        let child = command.spawn().map_err(|e| format!("serve: {e}"))?;
        let server = Server {
            started,
            pid: child.id(),
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(format!("{}/healthz", server.base)).send().await
                && r.status().is_success()
            {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "the server did not answer within a minute; see {}",
            dir.join("serve.log").display()
        ))
    }

    /// VmRSS and VmHWM in KiB.
    fn memory(&self) -> (u64, u64) {
        memory_kib_of(&self.pid.to_string())
    }

    /// The server's metrics, by gauge name.
    async fn gauges(&self, ops: &str) -> Result<HashMap<String, u64>> {
        let text = reqwest::Client::new()
            .get(format!("{}/metrics", self.base))
            .timeout(Duration::from_secs(30))
            .bearer_auth(ops)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| e.to_string())?
            .text()
            .await
            .map_err(|e| e.to_string())?;
        Ok(text
            .lines()
            .filter_map(|l| {
                let (name, value) = l.split_once(' ')?;
                Some((name.to_owned(), value.parse().ok()?))
            })
            .collect())
    }

    /// Waits for the pass book to be loaded; the seconds since the server started.
    async fn book_loaded(&self, ops: &str) -> Result<f64> {
        while self.gauges(ops).await?.get("kiemdich_pass_book_ready") != Some(&1) {
            if self.started.elapsed() > Duration::from_secs(600) {
                return Err("the pass book was not loaded within 10 minutes".into());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(self.started.elapsed().as_secs_f64())
    }

    /// The pass book's size as the server's metrics report it: "N passes in M MiB".
    async fn book(&self, ops: &str) -> Result<String> {
        let gauges = self.gauges(ops).await?;
        let gauge = |name: &str| {
            gauges
                .get(name)
                .copied()
                .ok_or_else(|| format!("{name} is not in the metrics"))
        };
        Ok(format!(
            "{} passes in {} MiB",
            gauge("kiemdich_pass_book_passes")?,
            gauge("kiemdich_pass_book_bytes")? >> 20
        ))
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A bench that fails part way does not leave its server running.
impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs every kind of client against the server for `seconds` while sampling its VmRSS every 100 ms; the counts,
/// the samples (KiB) and the seconds the load lasted.
async fn run_load(load: &Arc<Load>, pid: u32, seconds: u64) -> (Counts, Vec<u64>, f64) {
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let sampler = std::thread::spawn(move || {
        let mut samples = Vec::new();
        while !flag.load(Ordering::Relaxed) {
            samples.push(memory_kib_of(&pid.to_string()).0);
            std::thread::sleep(Duration::from_millis(100));
        }
        samples
    });
    let client = reqwest::Client::new();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for (work, clients) in Work::ALL {
        for c in 0..clients {
            let (load, counts, client) = (load.clone(), counts.clone(), client.clone());
            tasks.push(tokio::spawn(async move {
                let mut i = c;
                while Instant::now() < deadline {
                    let ok = request(&client, &load, work, i).await;
                    let tally = if ok { &counts.ok } else { &counts.failed };
                    tally[work.index()].fetch_add(1, Ordering::Relaxed);
                    i += clients;
                }
            }));
        }
    }
    for t in tasks {
        let _ = t.await;
    }
    let secs = start.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let samples = sampler.join().unwrap_or_default();
    let counts = Arc::try_unwrap(counts).unwrap_or_default();
    (counts, samples, secs)
}

/// The `i`-th request of one kind of work; whether it succeeded.
async fn request(client: &reqwest::Client, load: &Load, work: Work, i: usize) -> bool {
    let base = &load.base;
    let req = match work {
        Work::Scan => client
            .post(format!("{base}/api/v1/locations/{}/scans", load.place))
            .bearer_auth(&load.device)
            .json(&serde_json::json!({
                "token": load.passes[i % load.passes.len()],
                "direction": if i.is_multiple_of(2) { "in" } else { "out" },
                "idempotency_key": format!("memory-{}-{i}", std::process::id()),
            })),
        Work::Declare => client
            .post(format!("{base}/api/v1/declarations"))
            .bearer_auth(&load.officer)
            .header("content-type", "application/json")
            .body(load.declarations[(PASSES + i) % load.declarations.len()].clone()),
        Work::Search => {
            // A whole name, then a given name alone: the second matches many and scans the registry.
            let name = &load.names[(i / 2) % load.names.len()];
            let q = if i.is_multiple_of(2) {
                name.as_str()
            } else {
                name.rsplit(' ').next().unwrap_or(name)
            };
            client
                .get(format!("{base}/api/v1/residents"))
                .query(&[("q", q), ("limit", "50")])
                .bearer_auth(&load.officer)
        }
        Work::Export => client
            .get(format!("{base}/api/v1/locations/{}/presence", load.place))
            .bearer_auth(&load.officer),
    };
    match req.send().await {
        Ok(r) if r.status().is_success() => r.bytes().await.is_ok(),
        _ => false,
    }
}
