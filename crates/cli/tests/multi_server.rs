//! Two `kiemdich serve --db postgres://…` processes on one PostgreSQL database behave as one (issue 14, part 5):
//! passes issued by either scan on both, scans sent to both at once (the same idempotency key to both servers
//! too) are all stored once with no failure, a revocation on one server is refused on the other within a
//! second, and a server configured with another key-encryption key refuses to start. Runs when
//! `KIEMDICH_TEST_PG_URL` is set (multi-server only makes sense on PostgreSQL).

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const KEK: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0";
const OTHER_KEK: &str = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

const PEOPLE: &str = "citizen_id,full_name,date_of_birth,sex,commune_code,address,phone
094090123456,Nguyễn Văn An,1990-05-17,M,31498,1 Lê Lợi,0912345678
094185000123,Trần Thị Bé,1985-02-03,F,31498,2 Lê Lợi,0987654321
094070000555,Thạch Sà Rết,1970-01-01,M,31569,3 Lê Lợi,0901112223
";

fn bin(db: &str, dir: &Path, kek: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiemdich"));
    c.env("KIEMDICH_DB", db)
        .env("KIEMDICH_DATA_DIR", dir)
        .env("KIEMDICH_KEK", kek)
        .env("KIEMDICH_LOG", "warn");
    c
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiemdich_multi_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A new PostgreSQL database beside the one `url` names.
async fn fresh_pg(url: &str) -> String {
    use sqlx::{Connection, Executor};
    let name = format!(
        "kd_multi_{}_{}",
        std::process::id(),
        chrono::Utc::now().timestamp_micros()
    );
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn token(db: &str, dir: &Path, role: &str) -> String {
    let out = bin(db, dir, KEK)
        .args([
            "token", "create", "--name", role, "--role", role, "--unit", "94",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// A server process killed when dropped, also when the test fails.
struct Server {
    child: std::process::Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn serve(db: &str, dir: &Path) -> Server {
    let port = free_port();
    let child = bin(db, dir, KEK)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while reqwest::get(format!("{}/readyz", server.url))
        .await
        .map_or(true, |r| !r.status().is_success())
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

struct Tokens {
    officer: String,
    checkpoint: String,
    health: String,
}

/// Declares resident `i` of [`PEOPLE`] through `server`: the pass's id and token.
async fn pass(client: &reqwest::Client, server: &Server, t: &Tokens, i: usize) -> (String, String) {
    let line = PEOPLE.lines().nth(i + 1).unwrap();
    let f: Vec<&str> = line.split(',').collect();
    let person = json!({"citizen_id": f[0], "full_name": f[1], "date_of_birth": f[2], "sex": f[3], "commune_code": f[4]});
    let res = client
        .post(format!("{}/api/v1/declarations", server.url))
        .bearer_auth(&t.officer)
        .json(&json!({"people": [person], "consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let v: Value = res.json().await.unwrap();
    let p = &v["people"][0]["pass"];
    (
        p["id"].as_str().unwrap().to_owned(),
        p["token"].as_str().unwrap().to_owned(),
    )
}

/// Scans `pass` at `location` through `server` with `key`: the status and the answer.
async fn scan(
    client: &reqwest::Client,
    url: &str,
    checkpoint: &str,
    location: i64,
    pass: &str,
    key: &str,
) -> (u16, Value) {
    let res = client
        .post(format!("{url}/api/v1/locations/{location}/scans"))
        .bearer_auth(checkpoint)
        .json(&json!({"token": pass, "direction": "in", "idempotency_key": key}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn count_events(db: &str) -> i64 {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(db).await.unwrap();
    sqlx::query_scalar("SELECT COUNT(*) FROM presence_events")
        .fetch_one(&mut conn)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_behave_as_one() {
    let Ok(pg) = std::env::var("KIEMDICH_TEST_PG_URL") else {
        eprintln!("skipped: KIEMDICH_TEST_PG_URL is not set");
        return;
    };
    let db = fresh_pg(&pg).await;
    let (dir_a, dir_b) = (tempdir("a"), tempdir("b"));
    let people = dir_a.join("people.csv");
    std::fs::write(&people, PEOPLE).unwrap();
    let out = bin(&db, &dir_a, KEK)
        .args(["import", "population"])
        .arg(&people)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let t = Tokens {
        officer: token(&db, &dir_a, "officer"),
        checkpoint: token(&db, &dir_a, "checkpoint"),
        health: token(&db, &dir_a, "health"),
    };
    // One after the other, as a deployment rolls out: the second finds the first's sealed key.
    let a = serve(&db, &dir_a).await;
    let b = serve(&db, &dir_b).await;
    assert!(
        !dir_b.join("keys").exists(),
        "no private key on the second server's disk"
    );
    let client = reqwest::Client::new();
    let place = json!({"name": "Chốt QL1A", "kind": "checkpoint", "commune_code": "31498", "address": "QL1A", "lat": 9.6, "lon": 105.97});
    let res = client
        .post(format!("{}/api/v1/locations", b.url))
        .bearer_auth(&t.officer)
        .json(&place)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let passes = [
        pass(&client, &a, &t, 0).await,
        pass(&client, &b, &t, 1).await,
        pass(&client, &a, &t, 2).await,
    ];

    // Scans through both servers at once: a key of each server's own, and one key sent to both.
    const ROUNDS: usize = 150;
    let mut sends = Vec::new();
    for i in 0..ROUNDS {
        let token = passes[i % passes.len()].1.clone();
        for (url, key) in [
            (a.url.clone(), format!("a-{i}")),
            (b.url.clone(), format!("b-{i}")),
            (a.url.clone(), format!("both-{i}")),
            (b.url.clone(), format!("both-{i}")),
        ] {
            let (client, checkpoint, token) = (client.clone(), t.checkpoint.clone(), token.clone());
            sends.push(tokio::spawn(async move {
                let (status, v) = scan(&client, &url, &checkpoint, location, &token, &key).await;
                (key, status, v)
            }));
        }
    }
    let mut created = std::collections::HashMap::<String, usize>::new();
    for s in sends {
        let (key, status, v) = s.await.unwrap();
        assert!(
            status == 201 || status == 200,
            "scan {key} failed: {status} {v}"
        );
        assert_eq!(v["decision"], "admit", "{key}: {v}");
        *created.entry(key).or_default() += usize::from(status == 201);
    }
    assert_eq!(created.len(), 3 * ROUNDS);
    assert!(
        created.values().all(|n| *n == 1),
        "every key stored once, the other server answering a replay: {:?}",
        created.iter().filter(|(_, n)| **n != 1).collect::<Vec<_>>()
    );
    assert_eq!(count_events(&db).await, (3 * ROUNDS) as i64);

    // A revocation on one server is a refusal on the other within a second.
    let (revoked_id, revoked_token) = &passes[0];
    let res = client
        .post(format!("{}/api/v1/passes/{revoked_id}/revoke", a.url))
        .bearer_auth(&t.health)
        .json(&json!({"reason": "F1"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let revoked_at = Instant::now();
    let mut n = 0;
    let delay = loop {
        n += 1;
        let (status, v) = scan(
            &client,
            &b.url,
            &t.checkpoint,
            location,
            revoked_token,
            &format!("after-{n}"),
        )
        .await;
        assert_eq!(status, 201, "{v}");
        if v["reason"] == "revoked" {
            break revoked_at.elapsed();
        }
        assert!(
            revoked_at.elapsed() < Duration::from_secs(5),
            "the other server still admits the revoked pass: {v}"
        );
    };
    eprintln!(
        "cross-server revocation delay: {:.1} ms ({n} scans on the other server until refused)",
        delay.as_secs_f64() * 1000.0
    );
    assert!(delay <= Duration::from_secs(1), "seen after {delay:?}");

    // A server with another key-encryption key does not start, and says why.
    let dir_c = tempdir("c");
    let out = bin(&db, &dir_c, OTHER_KEK)
        .args(["serve", "--bind", &format!("127.0.0.1:{}", free_port())])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("KIEMDICH_KEK"), "{stderr}");
    drop((a, b));
    for d in [dir_a, dir_b, dir_c] {
        let _ = std::fs::remove_dir_all(d);
    }
}
