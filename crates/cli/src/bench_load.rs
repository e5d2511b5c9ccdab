//! The load generators of `kiemdich bench declare|scans`, each reported with the CPU it used beside the server's.
//!
//! The built-in generator (hyper clients on two threads of their own) costs more CPU than wrk, so on a 2-core
//! machine it understates the server somewhat; `wrk` (a C load generator, driven by `bench/post.lua`) is the one to
//! trust, and runs too when it is installed. CPU times come from /proc in clock ticks of 10 ms (USER_HZ is 100 on
//! Linux); both generators share the machine with the server, as they would on a single test box.

use crate::Result;
use hyper::client::conn::http1::SendRequest;
use hyper::header::HeaderValue;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The wrk script, kept in the repository and written beside the bodies at run time.
const WRK_SCRIPT: &str = include_str!("../bench/post.lua");
/// Seconds per clock tick in /proc's CPU times.
const TICK: f64 = 0.01;

/// What a load run achieved: successful requests, their latencies and failures, and the CPU seconds the server and
/// the generator used.
pub(crate) struct Load {
    pub ok: usize,
    pub secs: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub server_cpu: f64,
    pub generator_cpu: f64,
}

impl Load {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.secs
    }

    /// "… scans/s (p50 …, p99 …, N errors; CPU: server X cores, generator Y cores)".
    pub fn describe(&self, unit: &str) -> String {
        format!(
            "{:.0} {unit}/s (p50 {:.1} ms, p99 {:.1} ms, {} errors; CPU: server {:.2} cores, generator {:.2} cores)",
            self.per_sec(),
            self.p50_ms,
            self.p99_ms,
            self.errors,
            self.server_cpu / self.secs,
            self.generator_cpu / self.secs
        )
    }
}

/// utime + stime (and the same for waited-for children) of a /proc stat file, in seconds.
fn cpu_of(stat: &str) -> Option<(f64, f64)> {
    // Fields after "pid (comm) ": state is the first, utime the 12th, stime 13th, cutime 14th, cstime 15th.
    let rest: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |i: usize| rest.get(i)?.parse::<f64>().ok();
    Some((
        (field(11)? + field(12)?) * TICK,
        (field(13)? + field(14)?) * TICK,
    ))
}

/// This process's CPU seconds, and its waited-for children's.
fn process_cpu() -> (f64, f64) {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| cpu_of(&s))
        .unwrap_or_default()
}

/// CPU seconds of this process's threads named `name`.
fn threads_cpu(name: &str) -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter(|stat| stat.contains(&format!("({name})")))
        .filter_map(|stat| cpu_of(&stat).map(|c| c.0))
        .sum()
}

const GENERATOR_THREADS: &str = "kd-loadgen";

/// The built-in generator: `concurrency` clients post `body(i)` (i unique across clients) to `url` for `seconds`,
/// on a runtime of two threads of their own, so that their CPU is told apart from the server's.
pub(crate) async fn builtin(
    url: &str,
    token: &str,
    concurrency: usize,
    seconds: u64,
    body: Arc<dyn Fn(usize) -> String + Send + Sync>,
) -> Result<Load> {
    let (url, token) = (url.to_owned(), token.to_owned());
    let before = process_cpu().0;
    let (mut load, generator_cpu) = tokio::task::spawn_blocking(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(GENERATOR_THREADS)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let load = runtime.block_on(clients(&url, &token, concurrency, seconds, body))?;
        // Read while the generator's threads are alive: /proc forgets a thread when it ends.
        Ok::<_, String>((load, threads_cpu(GENERATOR_THREADS)))
    })
    .await
    .map_err(|e| e.to_string())??;
    load.generator_cpu = generator_cpu;
    load.server_cpu = (process_cpu().0 - before - generator_cpu).max(0.0);
    Ok(load)
}

/// Where the built-in clients post: the server's address, the request target and the headers every request
/// carries, made once.
struct Target {
    addr: String,
    path: hyper::Uri,
    host: HeaderValue,
    authorization: HeaderValue,
}

impl Target {
    fn of(url: &str, token: &str) -> Result<Target> {
        let uri: hyper::Uri = url.parse().map_err(|e| format!("{url}: {e}"))?;
        let addr = uri
            .authority()
            .ok_or_else(|| format!("{url}: no host"))?
            .to_string();
        let path = uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .parse()
            .map_err(|e| format!("{url}: {e}"))?;
        let header = |v: &str| HeaderValue::from_str(v).map_err(|e| e.to_string());
        Ok(Target {
            host: header(&addr)?,
            authorization: header(&format!("Bearer {token}"))?,
            addr,
            path,
        })
    }

    /// A kept-alive HTTP/1.1 connection of the client's own.
    async fn connect(&self) -> Result<SendRequest<String>> {
        let stream = tokio::net::TcpStream::connect(&self.addr)
            .await
            .map_err(|e| e.to_string())?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        Ok(sender)
    }

    /// Posts `body` and reads the whole answer; whether it was a success.
    async fn post(&self, sender: &mut SendRequest<String>, body: String) -> Result<bool> {
        use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST};
        let request = hyper::Request::post(self.path.clone())
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .body(body)
            .map_err(|e| e.to_string())?;
        sender.ready().await.map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let success = response.status().is_success();
        let mut answer = response.into_body();
        while let Some(frame) =
            std::future::poll_fn(|cx| hyper::body::Body::poll_frame(Pin::new(&mut answer), cx))
                .await
        {
            frame.map_err(|e| e.to_string())?;
        }
        Ok(success)
    }
}

/// `concurrency` clients, each on a connection of its own (hyper's, with no pool, URL parsing or header
/// formatting per request: with reqwest the generator took 0.44 cores where wrk takes 0.32), posting until the
/// deadline; a client whose connection failed opens another.
async fn clients(
    url: &str,
    token: &str,
    concurrency: usize,
    seconds: u64,
    body: Arc<dyn Fn(usize) -> String + Send + Sync>,
) -> Result<Load> {
    let target = Arc::new(Target::of(url, token)?);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (target, body) = (target.clone(), body.clone());
            tokio::spawn(async move {
                let (mut lat, mut errors, mut i) = (Vec::new(), 0u64, w);
                let mut sender = None;
                while Instant::now() < deadline {
                    if sender.is_none() {
                        sender = target.connect().await.ok();
                    }
                    let Some(open) = sender.as_mut() else {
                        errors += 1;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    let t = Instant::now();
                    match target.post(open, body(i)).await {
                        Ok(true) => lat.push(t.elapsed()),
                        Ok(false) => errors += 1,
                        Err(_) => {
                            errors += 1;
                            sender = None;
                        }
                    }
                    i += concurrency;
                }
                (lat, errors)
            })
        })
        .collect();
    let (mut lat, mut errors) = (Vec::new(), 0);
    for w in workers {
        let (l, e) = w.await.map_err(|e| e.to_string())?;
        lat.extend(l);
        errors += e;
    }
    let secs = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Load {
        ok: lat.len(),
        secs,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
        server_cpu: 0.0,
        generator_cpu: 0.0,
    })
}

/// wrk's summary line (bench/post.lua's `done`).
#[derive(serde::Deserialize)]
struct WrkSummary {
    requests: u64,
    duration_us: u64,
    status_errors: u64,
    socket_errors: u64,
    p50_us: u64,
    p99_us: u64,
}

/// `wrk` with two threads and `connections` connections posting `bodies` (one per line, `@KEY@` replaced by a
/// unique key) to `url` for `seconds`; `None` when wrk is not installed.
pub(crate) async fn wrk(
    dir: &Path,
    url: &str,
    token: &str,
    connections: usize,
    seconds: u64,
    bodies: &[String],
) -> Result<Option<Load>> {
    let file = dir.join("bodies.txt");
    std::fs::write(&file, bodies.join("\n")).map_err(|e| e.to_string())?;
    let extra = [file.display().to_string(), token.to_owned()];
    run_wrk(dir, url, connections, seconds, &extra).await
}

/// The HTTP ceiling as a benchmark's anchor: `wrk` GETting `/healthz` of the server at `base` on the same
/// connections for `seconds`.
pub(crate) async fn http_ceiling(
    dir: &Path,
    base: &str,
    connections: usize,
    seconds: u64,
) -> Result<String> {
    let health = format!("{base}/healthz");
    Ok(run_wrk(dir, &health, connections, seconds, &[])
        .await?
        .map_or_else(
            || "wrk not installed".to_owned(),
            |c| format!("wrk GET /healthz {:.0} req/s", c.per_sec()),
        ))
}

async fn run_wrk(
    dir: &Path,
    url: &str,
    connections: usize,
    seconds: u64,
    script_args: &[String],
) -> Result<Option<Load>> {
    let script = dir.join("post.lua");
    std::fs::write(&script, WRK_SCRIPT).map_err(|e| e.to_string())?;
    let mut args: Vec<String> = vec![
        "-t2".into(),
        format!("-c{connections}"),
        format!("-d{seconds}s"),
        "-s".into(),
        script.display().to_string(),
        url.into(),
    ];
    if !script_args.is_empty() {
        args.push("--".into());
        args.extend(script_args.iter().cloned());
    }
    let (before, children_before) = process_cpu();
    // The server answers on this runtime's workers meanwhile: wrk waits on a blocking thread.
    let output = match tokio::task::spawn_blocking(move || {
        std::process::Command::new("wrk").args(&args).output()
    })
    .await
    .map_err(|e| e.to_string())?
    {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("wrk: {e}")),
    };
    let (after, children_after) = process_cpu();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary: WrkSummary = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .ok_or_else(|| {
            format!(
                "wrk printed no summary: {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
    let errors = summary.status_errors + summary.socket_errors;
    Ok(Some(Load {
        ok: usize::try_from(summary.requests.saturating_sub(summary.status_errors))
            .unwrap_or(usize::MAX),
        secs: summary.duration_us as f64 / 1e6,
        p50_ms: summary.p50_us as f64 / 1e3,
        p99_ms: summary.p99_us as f64 / 1e3,
        errors,
        server_cpu: after - before,
        generator_cpu: children_after - children_before,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_times_are_read_after_the_command_name() {
        // A command name with spaces and parentheses, as /proc prints it.
        let stat =
            "4242 (kd (load) gen) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 2 0 100";
        assert_eq!(cpu_of(stat), Some((3.0, 0.1)));
        assert!(process_cpu().0 >= 0.0);
    }
}
