//! Faults at scale, for real: a PostgreSQL of the test's own stopped (`pg_ctl stop -m immediate`) and started again
//! in the middle of a scan and declaration load, and an SQLite database on a small filesystem that fills up. While
//! the database is away or full the server refuses with 503 and `Retry-After` (never 500, never a hang), comes back
//! by itself, and loses no acknowledged scan or declaration. Each test prints its counts.
//!
//! Needs PostgreSQL 15's server binaries (initdb, pg_ctl) and `runuser` for the first test, and `mount` by root
//! for the second; each says why and returns when it cannot run here. Never touches the shared PostgreSQL.

mod common;

#[expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]
mod faults {
    use crate::common::{RESIDENTS, TestApp, person, spawn_on, temp_data_dir};
    use serde_json::{Value, json};
    use std::collections::{HashMap, HashSet};
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
    /// The longest any request may take, outage or not: the store's 5 s wait for a connection and some slack
    /// for a loaded test machine.
    const BOUND: Duration = Duration::from_secs(15);

    fn run(cmd: &mut Command) -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{cmd:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{cmd:?}: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }

    /// A PostgreSQL instance of this test's own: its data directory and socket directory in a temporary directory
    /// owned by `postgres`, on a free port. Stopped and removed when dropped.
    struct PrivatePg {
        dir: PathBuf,
        port: u16,
    }

    impl PrivatePg {
        fn start() -> Result<PrivatePg, String> {
            if !Path::new(PG_BIN).join("initdb").exists() {
                return Err(format!("no PostgreSQL server binaries in {PG_BIN}"));
            }
            let dir = temp_data_dir().with_extension("pg");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            run(Command::new("chown").arg("postgres:postgres").arg(&dir))?;
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .map_err(|e| e.to_string())?
                .port();
            let pg = PrivatePg { dir, port };
            run(pg
                .as_postgres("initdb")
                .args(["-A", "trust", "-U", "postgres", "--no-sync", "-D"])
                .arg(pg.data()))?;
            pg.up()?;
            Ok(pg)
        }

        fn data(&self) -> PathBuf {
            self.dir.join("data")
        }

        /// A PostgreSQL program run as the `postgres` user (the tests run as root, which PostgreSQL refuses).
        fn as_postgres(&self, program: &str) -> Command {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"])
                .arg(Path::new(PG_BIN).join(program));
            c
        }

        fn up(&self) -> Result<(), String> {
            run(self
                .as_postgres("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .arg("-l")
                .arg(self.dir.join("log"))
                .arg("-o")
                .arg(format!(
                    "-p {} -k {} -c listen_addresses=127.0.0.1",
                    self.port,
                    self.dir.display()
                ))
                .args(["-w", "start"]))
        }

        /// Stops at once, as a crash would: no checkpoint, every connection cut.
        fn crash(&self) -> Result<(), String> {
            run(self.as_postgres("pg_ctl").arg("-D").arg(self.data()).args([
                "-m",
                "immediate",
                "-w",
                "stop",
            ]))
        }

        fn url(&self) -> String {
            format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
        }
    }

    impl Drop for PrivatePg {
        fn drop(&mut self) {
            let _ = self.crash();
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    /// What the clients saw.
    #[derive(Default)]
    struct Tally {
        /// Scan keys answered 201 or 200, and declaration ids answered 201.
        acked_scans: Mutex<HashSet<String>>,
        acked_declarations: Mutex<HashSet<i64>>,
        /// 503 answers, and how many of them carried `Retry-After`.
        unavailable: AtomicU64,
        with_retry_after: AtomicU64,
        /// Any other answer that is not a success (a 500, a transport error, a timeout), with what it was.
        unexpected: Mutex<Vec<String>>,
        slowest_ms: AtomicU64,
    }

    impl Tally {
        /// Records one answer; whether it was acknowledged (the client moves on) or is to be sent again.
        async fn answer(
            &self,
            sent: Instant,
            res: reqwest::Result<reqwest::Response>,
        ) -> Option<Value> {
            let ms = u64::try_from(sent.elapsed().as_millis()).unwrap_or(u64::MAX);
            self.slowest_ms.fetch_max(ms, Ordering::Relaxed);
            match res {
                Ok(r) if r.status() == 503 => {
                    self.unavailable.fetch_add(1, Ordering::Relaxed);
                    let retry = r
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
                    if let Some(secs) = retry {
                        self.with_retry_after.fetch_add(1, Ordering::Relaxed);
                        // Waits as told, up to half a second: the test needs many answers during the outage.
                        tokio::time::sleep(
                            Duration::from_secs(secs).min(Duration::from_millis(500)),
                        )
                        .await;
                    }
                    None
                }
                Ok(r) if r.status() == 200 || r.status() == 201 => r.json().await.ok(),
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    self.unexpected
                        .lock()
                        .unwrap()
                        .push(format!("{status}: {body}"));
                    None
                }
                Err(e) => {
                    self.unexpected
                        .lock()
                        .unwrap()
                        .push(format!("transport: {e}"));
                    None
                }
            }
        }
    }

    /// Scanners and declarers hammering `app` until `stop`: each scan key is sent again until it is acknowledged
    /// (as a scanner's queue does), each declaration likewise.
    fn start_load(
        app: &Arc<TestApp>,
        place: i64,
        passes: Arc<Vec<String>>,
        stop: &Arc<AtomicBool>,
        tally: &Arc<Tally>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        let client = reqwest::Client::builder().timeout(BOUND).build().unwrap();
        let mut tasks = Vec::new();
        for w in 0..6 {
            let (app, passes, stop, tally, client) = (
                app.clone(),
                passes.clone(),
                stop.clone(),
                tally.clone(),
                client.clone(),
            );
            tasks.push(tokio::spawn(async move {
                let mut n = 0usize;
                while !stop.load(Ordering::Relaxed) {
                    let key = format!("fault-{w}-{n}");
                    let body = json!({"token": passes[n % passes.len()], "direction": if n.is_multiple_of(2) { "in" } else { "out" }, "idempotency_key": key});
                    while !stop.load(Ordering::Relaxed) {
                        let sent = Instant::now();
                        let res = client
                            .post(app.at(&format!("/api/v1/locations/{place}/scans")))
                            .bearer_auth(&app.checkpoint)
                            .json(&body)
                            .send()
                            .await;
                        if tally.answer(sent, res).await.is_some() {
                            tally.acked_scans.lock().unwrap().insert(key.clone());
                            break;
                        }
                    }
                    n += 1;
                }
            }));
        }
        for w in 0..2 {
            let (app, stop, tally, client) =
                (app.clone(), stop.clone(), tally.clone(), client.clone());
            tasks.push(tokio::spawn(async move {
                let mut n = w;
                while !stop.load(Ordering::Relaxed) {
                    // Sent again with its key until acknowledged, as a client that lost an answer would.
                    let body = json!({"people": [person(n % RESIDENTS.len())], "consent": true,
                                      "idempotency_key": format!("declaration-{n}")});
                    let sent = Instant::now();
                    let res = client
                        .post(app.at("/api/v1/declarations"))
                        .bearer_auth(&app.officer)
                        .json(&body)
                        .send()
                        .await;
                    if let Some(v) = tally.answer(sent, res).await {
                        tally
                            .acked_declarations
                            .lock()
                            .unwrap()
                            .insert(v["declaration_id"].as_i64().unwrap());
                        n += 2;
                    }
                }
            }));
        }
        tasks
    }

    /// What the database holds: every scan key with its number of rows, every declaration id, and the
    /// idempotency keys in the stored declaration forms with their number of declarations.
    async fn stored(app: &TestApp) -> (HashMap<String, i64>, HashSet<i64>, HashMap<String, i64>) {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
        let keys: Vec<(String, i64)> = sqlx::query_as("SELECT idempotency_key, COUNT(*) FROM presence_events GROUP BY device, idempotency_key")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM declarations")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        let form_key = if app.db_url.starts_with("sqlite") {
            "json_extract(body, '$.form.idempotency_key')"
        } else {
            "body::json -> 'form' ->> 'idempotency_key'"
        };
        let declared: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT {form_key}, COUNT(*) FROM declarations WHERE {form_key} IS NOT NULL GROUP BY 1"
        )))
        .fetch_all(&mut conn)
        .await
        .unwrap();
        (
            keys.into_iter().collect(),
            ids.into_iter().collect(),
            declared.into_iter().collect(),
        )
    }

    /// Prints and checks the counts: nothing acknowledged lost, nothing stored twice, some 503 with Retry-After,
    /// no other failure, no request past [`BOUND`].
    async fn check(app: &TestApp, tally: &Tally, what: &str) {
        let (keys, ids, declared) = stored(app).await;
        let acked_scans = tally.acked_scans.lock().unwrap().clone();
        let acked_declarations = tally.acked_declarations.lock().unwrap().clone();
        let lost_scans = acked_scans
            .iter()
            .filter(|k| !keys.contains_key(*k))
            .count();
        let lost_declarations = acked_declarations
            .iter()
            .filter(|id| !ids.contains(id))
            .count();
        let duplicated = keys.values().filter(|&&n| n > 1).count();
        let duplicated_declarations = declared.values().filter(|&&n| n > 1).count();
        let unexpected = tally.unexpected.lock().unwrap().clone();
        println!(
            "{what}: scans acknowledged {}, lost {lost_scans}, duplicated {duplicated}; declarations acknowledged {}, lost {lost_declarations}, duplicated {duplicated_declarations}, stored {}; 503 answers {} ({} with Retry-After); other failures {}; slowest answer {} ms",
            acked_scans.len(),
            acked_declarations.len(),
            ids.len(),
            tally.unavailable.load(Ordering::Relaxed),
            tally.with_retry_after.load(Ordering::Relaxed),
            unexpected.len(),
            tally.slowest_ms.load(Ordering::Relaxed),
        );
        assert!(!acked_scans.is_empty() && !acked_declarations.is_empty());
        assert_eq!(
            (
                lost_scans,
                lost_declarations,
                duplicated,
                duplicated_declarations
            ),
            (0, 0, 0, 0)
        );
        assert!(
            !declared.is_empty(),
            "the declarations' keys are found in their forms"
        );
        assert!(
            tally.unavailable.load(Ordering::Relaxed) > 0,
            "no 503 was seen"
        );
        assert_eq!(
            tally.unavailable.load(Ordering::Relaxed),
            tally.with_retry_after.load(Ordering::Relaxed)
        );
        assert!(unexpected.is_empty(), "{unexpected:?}");
        assert!(tally.slowest_ms.load(Ordering::Relaxed) < BOUND.as_millis() as u64);
    }

    /// Passes of the registry's residents to scan.
    async fn passes(app: &TestApp) -> Arc<Vec<String>> {
        let mut out = Vec::new();
        for i in 0..RESIDENTS.len() {
            out.push(app.pass_of(i, false).await);
        }
        Arc::new(out)
    }

    /// Waits until a scan is acknowledged again (bounded), proving the service came back by itself.
    async fn until_served(app: &TestApp, place: i64, pass: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        for n in 0.. {
            let res = app
                .post(&format!("/api/v1/locations/{place}/scans"), Some(&app.checkpoint), &json!({"token": pass, "direction": "in", "idempotency_key": format!("{what}-back-{n}")}))
                .await;
            if res.status() == 201 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: not served again within a minute: {}",
                res.status()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_restarted_under_load_loses_nothing_acknowledged() {
        let pg = match PrivatePg::start() {
            Ok(pg) => pg,
            Err(why) => {
                eprintln!("skipped: cannot start a private PostgreSQL: {why}");
                return;
            }
        };
        let app = Arc::new(spawn_on(&pg.url(), temp_data_dir()).await);
        let place = app.location("checkpoint", crate::common::COMMUNE).await;
        let passes = passes(&app).await;
        let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
        let tasks = start_load(&app, place, passes.clone(), &stop, &tally);
        tokio::time::sleep(Duration::from_millis(1500)).await;
        pg.crash().unwrap();
        // Away for longer than the store waits for a connection, so that waiting requests are refused.
        tokio::time::sleep(Duration::from_secs(7)).await;
        pg.up().unwrap();
        until_served(&app, place, &passes[0], "postgres").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        check(
            &app,
            &tally,
            "PostgreSQL stopped (immediate) and started under load",
        )
        .await;
    }

    /// A tmpfs of `size` mounted at a new directory; unmounted (lazily: the server may still hold its files) when
    /// dropped.
    struct SmallDisk(PathBuf);

    impl SmallDisk {
        fn mount(size: &str) -> Result<SmallDisk, String> {
            let dir = temp_data_dir().with_extension("disk");
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            run(Command::new("mount")
                .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
                .arg(&dir))?;
            Ok(SmallDisk(dir))
        }

        /// Fills the disk but for `spare` bytes with a file of its own; frees it when told.
        fn fill(&self, spare: u64) -> PathBuf {
            let filler = self.0.join("filler");
            let free = {
                let out = Command::new("df")
                    .args(["-B1", "--output=avail"])
                    .arg(&self.0)
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .nth(1)
                    .unwrap()
                    .trim()
                    .parse::<u64>()
                    .unwrap()
            };
            let bytes = vec![0u8; usize::try_from(free.saturating_sub(spare)).unwrap()];
            // Writing may stop short of the exact figure; a short write still leaves the disk nearly full.
            let wrote = std::fs::write(&filler, bytes);
            let out = Command::new("df").arg("-B1").arg(&self.0).output().unwrap();
            println!(
                "filled ({wrote:?}): {}",
                String::from_utf8_lossy(&out.stdout)
            );
            filler
        }
    }

    impl Drop for SmallDisk {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Empties the write-ahead log into the database and truncates it, so that the next writes must grow it: a
    /// log left at its full size would take them in space it already holds, and the disk would seem not full.
    async fn truncate_wal(db_url: &str) {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
        for _ in 0..100 {
            let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                .fetch_one(&mut conn)
                .await
                .unwrap();
            if busy == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the write-ahead log could not be truncated");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_disk_full_refuses_then_recovers() {
        let disk = match SmallDisk::mount("64m") {
            Ok(disk) => disk,
            Err(why) => {
                eprintln!("skipped: cannot mount a small filesystem: {why}");
                return;
            }
        };
        let data_dir = disk.0.join("data");
        let url = format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kiemdich.db").display()
        );
        let app = Arc::new(spawn_on(&url, data_dir).await);
        let place = app.location("checkpoint", crate::common::COMMUNE).await;
        let passes = passes(&app).await;
        let (stop, tally) = (Arc::new(AtomicBool::new(false)), Arc::new(Tally::default()));
        let tasks = start_load(&app, place, passes.clone(), &stop, &tally);
        tokio::time::sleep(Duration::from_millis(1000)).await;
        truncate_wal(&app.db_url).await;
        let filler = disk.fill(64 * 1024);
        // Until the disk is full and refusals are answered for a while.
        let deadline = Instant::now() + Duration::from_secs(60);
        while tally.unavailable.load(Ordering::Relaxed) < 20 {
            assert!(
                Instant::now() < deadline,
                "the full disk was never refused; acknowledged {} scans; other answers: {:?}",
                tally.acked_scans.lock().unwrap().len(),
                tally
                    .unexpected
                    .lock()
                    .unwrap()
                    .iter()
                    .take(3)
                    .collect::<Vec<_>>()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        std::fs::remove_file(&filler).unwrap();
        until_served(&app, place, &passes[0], "sqlite").await;
        tokio::time::sleep(Duration::from_millis(1000)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.unwrap();
        }
        let integrity: String = {
            use sqlx::Connection;
            let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
            sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&mut conn)
                .await
                .unwrap()
        };
        println!("SQLite after the disk filled: integrity_check {integrity}");
        assert_eq!(integrity, "ok");
        check(
            &app,
            &tally,
            "SQLite disk full, then space freed, under load",
        )
        .await;
    }
}
