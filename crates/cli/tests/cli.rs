//! The `kiemdich` binary as an operator uses it: imports, offline verification, keys and the demo.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kiemdich"));
    c.env_remove("KIEMDICH_DATA_DIR")
        .env_remove("KIEMDICH_DB")
        .env("KIEMDICH_LOG", "warn");
    c
}

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiemdich_cli_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn run(args: &[&str], dir: &Path) -> Output {
    bin()
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn import(file: &Path, dir: &Path) -> Output {
    bin()
        .args(["import", "population"])
        .arg(file)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

/// Asserts that each (line prefix, words) is reported on a line of `stderr`.
fn assert_reported(stderr: &str, expected: &[(&str, &str)]) {
    for (line, why) in expected {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(line) && l.contains(why)),
            "{line} {why} in:\n{stderr}"
        );
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CSV: &str = "citizen_id,full_name,date_of_birth,sex,commune_code,address,phone
094090123456,Nguyễn Văn An,1990-05-17,M,31498,1 Lê Lợi,0912345678
094190123456,Trần Văn Bình,1990-05-17,M,31498,2 Lê Lợi,0912345679
094185000123,Trần Thị Bé,1985-02-03,F,31498,,
094090000001,Lê Văn Cường,1991-01-01,M,31498,3 Lê Lợi,
094090000002,Phạm Văn Dũng,1990-01-01,M,99999,4 Lê Lợi,
094090000003,Võ Văn Em,1990-13-01,M,31569,5 Lê Lợi,
12345,Ngô Văn Phúc,1990-01-01,M,31569,6 Lê Lợi,
094315000777,Lê Thị Cúc,2015-09-09,F,31569,\"7, Hùng Vương\",0987654321
";

#[test]
fn population_import_reports_bad_lines_keeps_good_ones_and_is_idempotent() {
    let dir = tempdir("import");
    let file = dir.join("population.csv");
    std::fs::write(&file, CSV).unwrap();
    let out = import(&file, &dir);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(
        out.status.code(),
        Some(1),
        "rejected rows make the exit non-zero\n{stdout}\n{stderr}"
    );
    assert_reported(
        &stderr,
        &[
            ("line 3:", "citizen_id"), // G=1 is female, declared M
            ("line 5:", "citizen_id"), // YY=90 but born 1991
            ("line 6:", "not a known commune"),
            ("line 7:", "date_of_birth"),
            ("line 8:", "12 digits"),
        ],
    );
    assert!(
        stdout.contains("8 rows read: 3 written (new or changed), 0 unchanged, 5 rejected"),
        "{stdout}"
    );
    let again = import(&file, &dir);
    assert!(
        text(&again.stdout)
            .contains("8 rows read: 0 written (new or changed), 3 unchanged, 5 rejected"),
        "{}",
        text(&again.stdout)
    );
    let good = dir.join("good.csv");
    std::fs::write(
        &good,
        CSV.lines()
            .take(2)
            .collect::<Vec<_>>()
            .join("\n")
            .replace("1 Lê Lợi", "9 Lê Lợi"),
    )
    .unwrap();
    let changed = import(&good, &dir);
    assert_eq!(changed.status.code(), Some(0));
    assert!(
        text(&changed.stdout).contains("1 rows read: 1 written"),
        "{}",
        text(&changed.stdout)
    );
    let wrong_header = dir.join("bad.csv");
    std::fs::write(&wrong_header, "id,name\n1,2\n").unwrap();
    let out = import(&wrong_header, &dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("header must be exactly citizen_id,full_name"));
    // The optional eighth column puts people in households; a bad household number is reported by line.
    let households = dir.join("households.csv");
    std::fs::write(
        &households,
        "citizen_id,full_name,date_of_birth,sex,commune_code,address,phone,household_id
094090123456,Nguyễn Văn An,1990-05-17,M,31498,1 Lê Lợi,0912345678,HK-0001
094185000123,Trần Thị Bé,1985-02-03,F,31498,1 Lê Lợi,,HK-0001
094090000001,Lê Văn Cường,1990-01-01,M,31498,3 Lê Lợi,,HK 2
",
    )
    .unwrap();
    let out = import(&households, &dir);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_reported(&text(&out.stderr), &[("line 4:", "household_id")]);
    assert!(
        text(&out.stdout)
            .contains("3 rows read: 2 written (new or changed), 0 unchanged, 1 rejected"),
        "{}",
        text(&out.stdout)
    );
}

/// A child process (demo or server) killed with SIGKILL, no clean shutdown, when dropped, also when a
/// test fails.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the demo on a free port, with `visitors` residents given a week of visits, and waits for its
/// credentials file.
fn start_demo(dir: &Path, visitors: &str) -> (KillOnDrop, Value) {
    let child = bin()
        .args([
            "demo",
            "--population",
            "300",
            "--visitors",
            visitors,
            "--bind",
            "127.0.0.1:0",
            "--data-dir",
        ])
        .arg(dir)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let child = KillOnDrop(child);
    let creds = dir.join("demo-credentials.json");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = std::fs::read_to_string(&creds)
            .ok()
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        {
            return (child, v);
        }
        assert!(
            Instant::now() < deadline,
            "demo did not write its credentials"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn demo_writes_credentials_and_serves_a_province() {
    let dir = tempdir("demo");
    let (child, creds) = start_demo(&dir, "100");
    for field in ["url", "officer_token", "checkpoint_token", "health_token"] {
        assert!(
            creds[field].as_str().is_some_and(|s| !s.is_empty()),
            "{field} in {creds}"
        );
    }
    assert_eq!(creds["locations"].as_array().unwrap().len(), 3, "{creds}");
    let accounts = creds["accounts"].as_array().unwrap();
    assert!(
        accounts.iter().any(|a| a["role"] == "officer")
            && accounts
                .iter()
                .all(|a| a["password"].as_str().unwrap().len() >= 10)
    );
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(dir.join("demo-credentials.json"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    // The KD1 signing key, the demo's HC1 DSC key (made, signed by a CSCA made on the spot, and installed) and
    // the key that signs its proximity export batch: sealed in the database under the KEK generated in the
    // data dir (0600), none left in a plain file.
    let names = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        let names = store.sealed_names("").await.unwrap();
        store.close().await;
        names
    });
    assert_eq!(names.len(), 3, "{names:?}");
    for prefix in ["pass:", "dcc:dcc-dsc-", "gaen-export"] {
        assert!(names.iter().any(|n| n.starts_with(prefix)), "{names:?}");
    }
    let plain: Vec<_> = std::fs::read_dir(dir.join("keys"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(plain.is_empty(), "{plain:?}");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.join("kek")).unwrap().permissions()
        ) & 0o777,
        0o600
    );
    assert!(dir.join("demo-csca/csca.cert.pem").exists());
    // The demo's foreign visitor's certificate admits at the demo checkpoint, which accepts EU certificates.
    let hc1 = std::fs::read_to_string(dir.join("demo-foreign-certificate.txt")).unwrap();
    let checkpoint = creds["locations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["kind"] == "checkpoint")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let answer: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .post(format!("{}/api/v1/locations/{checkpoint}/scans", creds["url"].as_str().unwrap()))
            .bearer_auth(creds["checkpoint_token"].as_str().unwrap())
            .json(&serde_json::json!({"token": hc1.trim(), "direction": "in", "idempotency_key": "demo-dcc"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    });
    assert_eq!(answer["decision"], "admit", "{answer}");
    assert_eq!(answer["certificate"]["country"], "DE", "{answer}");
    // One confirmed case's keys are published in a signed batch.
    let exports: Value = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let url = format!(
            "{}/api/v1/proximity/exports",
            creds["url"].as_str().unwrap()
        );
        reqwest::get(url).await.unwrap().json().await.unwrap()
    });
    let batches = exports["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 1, "{exports}");
    assert!(batches[0]["keys"].as_i64().unwrap() > 0, "{exports}");
    drop(child);
    // A second run on the same directory keeps the province and the credentials.
    let (_child, again) = start_demo(&dir, "100");
    assert_eq!(again["officer_token"], creds["officer_token"]);
    // The demo's visitors each have two visits in the last week, for tracing to work on.
    let visits = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        let first = store.citizen_ids(1).await.unwrap();
        let citizen = kiemdich_store::citizen_number(&first[0]).unwrap();
        let now = chrono::Utc::now().timestamp();
        let week = kiemdich_domain::Span {
            from: now - 8 * 86_400,
            to: now,
        };
        store
            .visits_in(kiemdich_store::VisitKey::Citizen, &[(citizen, week, 0)])
            .await
    });
    assert_eq!(visits.unwrap().len(), 2);
    // Most adults have doses of the products Vietnam used, dated 2021–2022; the second run added none.
    let (people, doses) = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        let ids: Vec<kiemdich_domain::CitizenId> = store
            .citizen_ids(100)
            .await
            .unwrap()
            .iter()
            .map(|c| kiemdich_domain::CitizenId::parse(c).unwrap())
            .collect();
        (ids.len(), store.doses_of_many(&ids).await.unwrap())
    });
    assert!(
        doses.len() * 2 > people,
        "{} of {people} vaccinated",
        doses.len()
    );
    for d in doses.values().flatten() {
        assert!(
            d.date.to_string().as_str() >= "2021-07-01"
                && d.date.to_string().as_str() < "2023-01-01"
        );
        assert!(d.dose_number <= d.series_doses);
    }
    // Twelve samples, seeded once: two pools of five tested (negative, positive: five re-samples ordered).
    let samples = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        store.count_samples().await.unwrap()
    });
    assert_eq!(samples, 12 + 5);
    // One demo decision, kept once across runs, with the communes spread 49 / 34 / 26 of 109.
    let levels = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        let province = kiemdich_domain::UnitCode::parse("94").unwrap();
        let decisions = store.decisions(&province).await.unwrap();
        assert_eq!(decisions.len(), 1);
        store
            .decision(decisions[0].id)
            .await
            .unwrap()
            .unwrap()
            .levels
    });
    let count = |n: u8| levels.iter().filter(|l| l.level.get() == n).count();
    assert_eq!((count(1), count(2), count(3)), (49, 34, 26));
    // The demo's geometry: 11 districts and 109 illustrative communes, and each place inside its own commune's
    // polygon, the three in three communes.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        let units: Vec<kiemdich_domain::UnitCode> = store
            .units()
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.code)
            .collect();
        let today = chrono::Utc::now().date_naive();
        let boundaries = store.boundaries_on(today, &units).await.unwrap();
        assert_eq!(boundaries.len(), 120);
        let illustrative = boundaries
            .iter()
            .filter(|b| b.source.contains("illustrative demo geometry"))
            .count();
        assert_eq!(illustrative, 109);
        let mut communes = std::collections::HashSet::new();
        for place in creds["locations"].as_array().unwrap() {
            let loc = store
                .location(place["id"].as_i64().unwrap())
                .await
                .unwrap()
                .unwrap();
            let own = boundaries
                .iter()
                .find(|b| b.unit.as_str() == loc.commune_code)
                .unwrap();
            assert!(
                own.geometry.contains([loc.lon, loc.lat]),
                "{} outside {}",
                loc.name,
                loc.commune_code
            );
            communes.insert(loc.commune_code);
        }
        assert_eq!(communes.len(), 3);
    });
}

#[test]
fn offline_verification_with_a_trust_list_file_or_the_data_dir() {
    let dir = tempdir("verify");
    let generated = run(&["keys", "generate"], &dir);
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let list = run(&["keys", "list"], &dir);
    assert!(list.status.success(), "{}", text(&list.stderr));
    let trust = dir.join("trust.json");
    std::fs::write(&trust, &list.stdout).unwrap();
    let parsed: Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(parsed["keys"][0]["alg"], "EdDSA");

    // Issue a pass through the library with the key on disk, as the server would. The store is closed before
    // the commands below open the same database: dropped unclosed, its SQLite connections would close later on
    // their own threads (the last one checkpointing and deleting the WAL) while a command opens the file, which
    // under full load made a command fail now and then.
    let token = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(&dir).await.unwrap();
        let key = kiemdich_store::keyring::active(&store, &dir)
            .await
            .unwrap()
            .unwrap();
        let now = chrono::Utc::now();
        let claims = kiemdich_pass::PassClaims {
            issuer: "VN-94".into(),
            pass_id: kiemdich_pass::PassId::random(),
            issued_at: now,
            expires_at: now + chrono::Duration::hours(72),
            holder: kiemdich_pass::Holder {
                name: "Nguyễn Văn An".into(),
                birth_year: 1990,
                masked_id: "094******456".into(),
                status: kiemdich_domain::HealthStatus::Green,
                commune: "31498".into(),
                vaccination: kiemdich_domain::VaccinationSummary::NONE,
            },
        };
        let token = kiemdich_pass::encode(&claims, &key);
        store.close().await;
        token
    });
    let out = bin()
        .args(["pass", "verify", "--json", "--trust-list"])
        .arg(&trust)
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            v["valid"].as_bool(),
            v["reason"].as_str(),
            v["status"].as_str()
        ),
        (Some(true), Some("valid"), Some("green"))
    );
    assert_eq!(v["holder"]["name"], "Nguyễn Văn An");
    assert!(v["expires_at"].is_string());

    let out = bin()
        .args(["pass", "verify", "--json", "--data-dir"])
        .arg(&dir)
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tampered = format!(
        "{}{}",
        &token[..token.len() - 2],
        if token.ends_with("00") { "11" } else { "00" }
    );
    let out = bin()
        .args(["pass", "verify", "--json", "--trust-list"])
        .arg(&trust)
        .arg(&tampered)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["valid"], false);
    assert!(!v["reason"].as_str().unwrap().is_empty());

    // Rotation keeps old passes valid; retiring the old key stops them.
    let rotated = run(&["keys", "rotate"], &dir);
    assert!(rotated.status.success(), "{}", text(&rotated.stderr));
    let out = bin()
        .args(["pass", "verify", "--data-dir"])
        .arg(&dir)
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "a rotated-out key still verifies its passes: {}",
        text(&out.stderr)
    );
    let kid = parsed["keys"][0]["kid"].as_str().unwrap();
    let retired = run(&["keys", "retire", kid], &dir);
    assert!(retired.status.success(), "{}", text(&retired.stderr));
    let out = bin()
        .args(["pass", "verify", "--json", "--data-dir"])
        .arg(&dir)
        .arg(&token)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["reason"],
        "key_retired"
    );
}

#[test]
fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["demo", "--help"],
        vec!["serve", "--help"],
        vec!["import", "population", "--help"],
        vec!["pass", "verify", "--help"],
        vec!["keys", "--help"],
        vec!["bench", "--help"],
        vec!["dcc", "verify", "--help"],
        vec!["dcc", "dsc", "sign", "--help"],
    ] {
        let out = bin().args(&args).output().unwrap();
        assert!(
            out.status.success() && text(&out.stdout).contains("Usage"),
            "{args:?}"
        );
    }
}

#[test]
fn settings_come_from_flags_then_environment_then_the_config_file() {
    let dir = tempdir("config");
    let (from_file, from_env, from_flag) = (dir.join("file"), dir.join("env"), dir.join("flag"));
    let config = dir.join("kiemdich.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\nissuer = \"VN-TEST\"\n",
            from_file.display().to_string()
        ),
    )
    .unwrap();
    let keys = |env: Option<&Path>, flag: Option<&Path>| {
        let mut cmd = bin();
        cmd.arg("--config").arg(&config).args(["keys", "generate"]);
        if let Some(dir) = env {
            cmd.env("KIEMDICH_DATA_DIR", dir);
        }
        if let Some(dir) = flag {
            cmd.arg("--data-dir").arg(dir);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    keys(None, None);
    assert!(
        from_file.join("kiemdich.db").exists(),
        "the config file's data_dir is used"
    );
    keys(Some(&from_env), None);
    assert!(
        from_env.join("kiemdich.db").exists(),
        "the environment beats the file"
    );
    keys(Some(&from_env), Some(&from_flag));
    assert!(from_flag.join("kiemdich.db").exists(), "a flag beats both");
    let list = bin()
        .args(["keys", "list", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&list.stdout).unwrap()["issuer"],
        "VN-TEST"
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "data_dir = [").unwrap();
    let out = bin()
        .args(["keys", "list", "--config"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("bad.toml"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn logs_can_be_structured_json() {
    let dir = tempdir("logs");
    let out = bin()
        .env("KIEMDICH_LOG", "info")
        .args(["--log-format", "json", "keys", "generate", "--data-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = text(&out.stderr)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "applied migration"),
        "{lines:?}"
    );
}

#[test]
fn backup_while_open_and_restore_elsewhere() {
    let dir = tempdir("backup");
    let file = dir.join("population.csv");
    std::fs::write(&file, CSV).unwrap();
    import(&file, &dir);
    let copy = dir.join("copy.db");
    let out = bin()
        .args(["backup", "--to"])
        .arg(&copy)
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let again = bin()
        .args(["backup", "--to"])
        .arg(&copy)
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        again.status.code(),
        Some(2),
        "an existing backup is never overwritten"
    );
    let elsewhere = tempdir("restored");
    let out = bin()
        .args(["restore", "--from"])
        .arg(&copy)
        .arg("--data-dir")
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The restored registry already holds the three good rows: importing them again writes nothing.
    let check = import(&file, &elsewhere);
    assert!(
        text(&check.stdout).contains("0 written (new or changed), 3 unchanged"),
        "{}",
        text(&check.stdout)
    );
    let refused = bin()
        .args(["restore", "--from"])
        .arg(&copy)
        .arg("--data-dir")
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(
        refused.status.code(),
        Some(2),
        "an existing database needs --force"
    );
    let not_db = dir.join("population.csv");
    let out = bin()
        .args(["restore", "--force", "--from"])
        .arg(&not_db)
        .arg("--data-dir")
        .arg(&elsewhere)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not a kiemdich database")
            || text(&out.stderr).contains("population.csv"),
        "{}",
        text(&out.stderr)
    );
}

async fn start_server(dir: &Path, port: u16) -> KillOnDrop {
    let child = bin()
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let server = KillOnDrop(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    while reqwest::get(format!("http://127.0.0.1:{port}/healthz"))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_declarations_survive_a_crash() {
    let dir = tempdir("crash");
    let file = dir.join("population.csv");
    std::fs::write(&file, CSV).unwrap();
    import(&file, &dir);
    let token = text(
        &bin()
            .args([
                "token",
                "create",
                "--name",
                "t",
                "--role",
                "officer",
                "--unit",
                "94",
                "--data-dir",
            ])
            .arg(&dir)
            .output()
            .unwrap()
            .stdout,
    )
    .trim()
    .to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = start_server(&dir, port).await;
    let people = [
        serde_json::json!({"citizen_id": "094090123456", "full_name": "Nguyễn Văn An", "date_of_birth": "1990-05-17", "sex": "M", "commune_code": "31498"}),
        serde_json::json!({"citizen_id": "094185000123", "full_name": "Trần Thị Bé", "date_of_birth": "1985-02-03", "sex": "F", "commune_code": "31498"}),
    ];
    let client = reqwest::Client::new();
    let acked = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sends: Vec<_> = (0..200)
        .map(|i| {
            let req = client
                .post(format!("http://127.0.0.1:{port}/api/v1/declarations"))
                .bearer_auth(&token)
                .json(&serde_json::json!({"people": [people[i % 2]], "consent": true}));
            let acked = acked.clone();
            tokio::spawn(async move {
                let res = req.send().await.ok()?;
                if res.status() != 201 {
                    return None;
                }
                let id = res.json::<Value>().await.ok()?["declaration_id"].as_i64();
                acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                id
            })
        })
        .collect();
    // Kill the server as soon as a few declarations are acknowledged, with the rest still arriving.
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 5 {
        assert!(Instant::now() < deadline, "no declaration was acknowledged");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    drop(server);
    let mut acknowledged = Vec::new();
    for s in sends {
        if let Some(id) = s.await.unwrap() {
            acknowledged.push(id);
        }
    }
    assert!(
        !acknowledged.is_empty(),
        "some declarations were acknowledged before the kill"
    );
    let _server = start_server(&dir, port).await;
    for id in &acknowledged {
        let res = client
            .get(format!("http://127.0.0.1:{port}/api/v1/declarations/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            200,
            "acknowledged declaration {id} was lost in the crash"
        );
    }
    eprintln!(
        "{} of 200 declarations were acknowledged before the kill; all survived",
        acknowledged.len()
    );
}

const TRACE_PEOPLE: &str = "citizen_id,full_name,date_of_birth,sex,commune_code,address,phone
094090123456,Nguyễn Văn An,1990-05-17,M,31498,1 Lê Lợi,0912345678
094191234567,Trần Thị Bình,1991-02-02,F,31498,2 Lê Lợi,0912345679
094185000123,Trần Thị Bé,1985-02-03,F,31498,3 Lê Lợi,
094088000001,Lê Văn Dũng,1988-01-01,M,31498,4 Lê Lợi,
094315000777,Lê Thị Cúc,2015-09-09,F,31498,5 Lê Lợi,
";

fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// An F0 at a market with an F1 (30 shared minutes), a near miss (10), a person whose visit without an exit
/// ends at their next check-in before 15 minutes were shared, and an F2 who met the F1 at a hospital.
#[test]
fn visits_import_reports_bad_lines_and_trace_finds_f1_and_f2_with_evidence() {
    let dir = tempdir("trace");
    let (_demo, creds) = start_demo(&dir, "0");
    let place = |kind: &str| {
        creds["locations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["kind"] == kind)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    let (market, hospital) = (place("market"), place("hospital"));
    let people = dir.join("people.csv");
    std::fs::write(&people, TRACE_PEOPLE).unwrap();
    assert_eq!(import(&people, &dir).status.code(), Some(0));
    // 08:00 Vietnam time, five days ago.
    let day =
        (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive() - chrono::Duration::days(5);
    let t0 = day.and_hms_opt(1, 0, 0).unwrap().and_utc();
    let at = |min: i64| rfc3339(t0 + chrono::Duration::minutes(min));
    let visits = format!(
        "location_id,citizen_id,entered_at,exited_at
{market},094090123456,{},{}
{market},094191234567,{},{}
{market},094185000123,{},{}
{market},094088000001,{},
{hospital},094088000001,{},
{hospital},094191234567,{},{}
{hospital},094315000777,{},{}
{market},094090123456,{},{}
999,094090123456,{},
{market},094099999999,{},
",
        at(0),
        at(60),
        at(30),
        at(90),
        at(50),
        at(64),
        at(45),
        at(55),
        at(180),
        at(300),
        at(180),
        at(240),
        at(10),
        at(5),
        at(0),
        at(0),
    );
    let file = dir.join("visits.csv");
    std::fs::write(&file, visits).unwrap();
    let import_visits = || {
        bin()
            .args(["import", "visits"])
            .arg(&file)
            .arg("--data-dir")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = import_visits();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_reported(
        &stderr,
        &[
            ("line 9:", "exited_at: is not after entered_at"),
            ("line 10:", "no location 999"),
            ("line 11:", "not in the population registry"),
        ],
    );
    assert!(
        stdout.contains("10 rows read: 7 written (new or changed), 0 unchanged, 3 rejected"),
        "{stdout}"
    );
    let again = import_visits();
    assert!(
        text(&again.stdout).contains("7 unchanged"),
        "re-import writes nothing: {}",
        text(&again.stdout)
    );
    let trace = |extra: &[&str]| {
        let out = bin()
            .args(["trace", "--citizen", "094090123456", "--onset"])
            .arg(day.to_string())
            .args(extra)
            .arg("--json")
            .arg("--data-dir")
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let result = trace(&[]);
    assert_eq!(result["rule_version"], "VN-2021-12");
    let contacts = result["contacts"].as_array().unwrap();
    let ids: Vec<(&str, i64, &str)> = contacts
        .iter()
        .map(|c| {
            (
                c["citizen_id"].as_str().unwrap(),
                c["degree"].as_i64().unwrap(),
                c["via"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("094191234567", 1, "094090123456"),
            ("094315000777", 2, "094191234567")
        ],
        "{result}"
    );
    assert_eq!(
        contacts[0]["exposures"],
        serde_json::json!([{"location_id": market, "from": at(30), "to": at(60), "minutes": 30}])
    );
    assert_eq!(contacts[1]["exposures"][0]["minutes"], 60);
    assert_eq!(contacts[1]["exposures"][0]["location_id"], hospital);
    let csv = bin()
        .args(["trace", "--citizen", "094090123456", "--csv", "--onset"])
        .arg(day.to_string())
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let csv = text(&csv.stdout);
    assert!(
        csv.starts_with("citizen_id,degree,via,location_id,from,to,minutes\n"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "094191234567,1,094090123456,{market},{},{},30",
            at(30),
            at(60)
        )),
        "{csv}"
    );
    let f1_only = trace(&["--depth", "1"]);
    assert_eq!(f1_only["contacts"].as_array().unwrap().len(), 1);
    // At 10 minutes the near miss counts, and so does the visit cut short by the next check-in.
    let loose = trace(&["--min-overlap", "10", "--depth", "1"]);
    let found: Vec<&str> = loose["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["citizen_id"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["094088000001", "094185000123", "094191234567"]);
    let future = bin()
        .args(["trace", "--citizen", "094090123456", "--onset"])
        .arg((day + chrono::Duration::days(30)).to_string())
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(future.status.code(), Some(2));
    assert!(
        text(&future.stderr).contains("in the future"),
        "{}",
        text(&future.stderr)
    );
    let ancient = bin()
        .args([
            "trace",
            "--citizen",
            "094090123456",
            "--onset",
            "0000-01-01",
        ])
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(ancient.status.code(), Some(2));
    assert!(
        text(&ancient.stderr).contains("before 2019-12-01"),
        "{}",
        text(&ancient.stderr)
    );
    // The CDC feed: good lines open cases, each bad one is reported by number.
    let feed = dir.join("cases.csv");
    let future_day = day + chrono::Duration::days(30);
    std::fs::write(
        &feed,
        format!(
            "citizen_id,classification,onset_date,sample_date,isolated_date,state,vaccinated
094090123456,f0,{day},,,hospitalised,false
094191234567,f1,{day},,,,
094185000123,suspected,,,,,
094088000001,f0,{future_day},,,,
094099999999,f0,{day},,,,
094090123456,f0,{day},,,,
"
        ),
    )
    .unwrap();
    let out = bin()
        .args(["import", "cases"])
        .arg(&feed)
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("6 rows read: 2 written (new or changed), 0 unchanged, 4 rejected"),
        "{stdout}"
    );
    assert_reported(
        &stderr,
        &[
            ("line 3:", "come from confirming a trace"),
            ("line 5:", "in the future"),
            ("line 6:", "not in the population registry"),
            ("line 7:", "already has an active case"),
        ],
    );
    let stranger = bin()
        .args(["trace", "--citizen", "094099999999", "--onset"])
        .arg(day.to_string())
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(text(&stranger.stderr).contains("not in the population registry"));
}

#[test]
fn figures_import_reports_bad_lines_by_number_and_keeps_good_ones() {
    let dir = tempdir("figures");
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/soctrang_units.json");
    let out = bin()
        .args(["import", "units"])
        .arg(&units)
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let file = dir.join("figures.csv");
    std::fs::write(
        &file,
        "unit_code,figure,period,value,source
31498,population,,10250,Cục Thống kê 2021
31498,adult_first_dose_pct,2021-W46,\"71,5\",CDC Sóc Trăng
99999,population,,100,x
31498,population_full_pct,,140,CDC
31498,oxygen,2021-W46,3,CDC
31498,deaths,2099-W01,1,CDC
31569,population,,abc,CDC
31569,free_beds,,12,
",
    )
    .unwrap();
    let figures = |dir: &Path| {
        bin()
            .args(["import", "figures"])
            .arg(&file)
            .arg("--data-dir")
            .arg(dir)
            .output()
            .unwrap()
    };
    let out = figures(&dir);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert_reported(
        &stderr,
        &[
            ("line 4", "not a known unit"),
            ("line 5", "percentage"),
            ("line 6", "figure"),
            ("line 7", "has not begun"),
            ("line 8", "not a number"),
            ("line 9", "source"),
        ],
    );
    assert!(
        text(&out.stdout).contains("2 written"),
        "{}",
        text(&out.stdout)
    );
    // Again: the same two figures are replaced, not added.
    let again = figures(&dir);
    assert!(text(&again.stdout).contains("2 written"));
}

/// A feature of unit `code` with a square ring at (`lon`, `lat`).
fn square_feature(code: &str, lon: f64, lat: f64) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[[[{lon},{lat}],[{},{lat}],[{},{}],[{lon},{}],[{lon},{lat}]]]}}}}"#,
        lon + 0.01,
        lon + 0.01,
        lat + 0.01,
        lat + 0.01
    )
}

fn import_boundaries(file: &Path, dir: &Path, extra: &[&str]) -> Output {
    bin()
        .args(["import", "boundaries"])
        .arg(file)
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap()
}

fn stored_boundaries(dir: &Path, unit: &str) -> Vec<kiemdich_store::Boundary> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = kiemdich_store::Store::open_data_dir(dir).await.unwrap();
        let unit = kiemdich_domain::UnitCode::parse(unit).unwrap();
        let rows = store.boundary_history(&unit).await.unwrap();
        store.close().await;
        rows
    })
}

#[test]
fn boundaries_import_keeps_good_features_reports_bad_ones_and_upserts() {
    let dir = tempdir("boundaries");
    // The real district polygons of Sóc Trăng: all good.
    let districts = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/soctrang_districts.geojson");
    let out = import_boundaries(&districts, &dir, &["--valid-from", "2019-10-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("11 features read: 11 written"),
        "{}",
        text(&out.stdout)
    );
    // Again: nothing changes.
    let out = import_boundaries(&districts, &dir, &["--valid-from", "2019-10-01"]);
    assert!(
        text(&out.stdout).contains("0 written (new or changed), 11 unchanged"),
        "{}",
        text(&out.stdout)
    );

    // A file with one good feature and one bad feature of each kind.
    let bad = [
        square_feature("31498", 105.97, 9.60),
        square_feature("99999", 105.0, 9.0),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":{"type":"Polygon","coordinates":[[[105,9],[105.1,9],[105.1,9.1],[105,9.05]]]}}"#.into(),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":{"type":"Polygon","coordinates":[[[105,9],[105.1,9],[105,9]]]}}"#.into(),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":{"type":"Polygon","coordinates":[[[105,9],[105.1,9.1],[105.1,9],[105,9.1],[105,9]]]}}"#.into(),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":{"type":"Polygon","coordinates":[[[185,9],[185.1,9],[185.1,9.1],[185,9]]]}}"#.into(),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":{"type":"Point","coordinates":[105,9]}}"#.into(),
        r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[105,9],[105.1,9],[105.1,9.1],[105,9]]]}}"#.into(),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":null}"#.into(),
        r#"{"type":"Feature","properties":{"code":"31501"},"geometry":{"type":"Polygon","coordinates":[[[105,9],["x",9],[105.1,9.1],[105,9]]]}}"#.into(),
        r#"{"type":"Point","coordinates":[105,9]}"#.into(),
        square_feature("31498", 105.5, 9.5),
    ];
    let file = dir.join("bad.geojson");
    std::fs::write(
        &file,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            bad.join(",")
        ),
    )
    .unwrap();
    let out = import_boundaries(&file, &dir, &["--valid-from", "2021-11-01"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert_reported(
        &stderr,
        &[
            ("feature 1:", "unknown unit"),
            ("feature 2:", "not closed"),
            ("feature 3:", "fewer than 4"),
            ("feature 4:", "intersects itself"),
            ("feature 5:", "outside WGS84"),
            ("feature 6:", "Point is not Polygon or MultiPolygon"),
            ("feature 7:", "no \"code\""),
            ("feature 8:", "no geometry"),
            ("feature 9:", "not nested arrays"),
            ("feature 10:", "not a GeoJSON Feature"),
            ("feature 11:", "repeats feature 0"),
        ],
    );
    assert!(!stderr.contains("feature 0:"), "{stderr}");
    // The good feature was kept.
    let stored = stored_boundaries(&dir, "31498");
    assert_eq!(stored.len(), 1);
    assert!(stored[0].geometry.contains([105.975, 9.605]));
    assert_eq!(stored[0].valid_from.to_string(), "2021-11-01");

    // A later import of the same unit closes the earlier row; the same date replaces it.
    let later = dir.join("later.geojson");
    std::fs::write(
        &later,
        format!(
            r#"{{"type":"FeatureCollection","features":[{}]}}"#,
            square_feature("31498", 105.98, 9.61)
        ),
    )
    .unwrap();
    let out = import_boundaries(
        &later,
        &dir,
        &[
            "--valid-from",
            "2022-01-01",
            "--source",
            "Quyết định 1/QĐ-UBND",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = import_boundaries(
        &later,
        &dir,
        &[
            "--valid-from",
            "2022-01-01",
            "--source",
            "Quyết định 1/QĐ-UBND",
        ],
    );
    assert!(
        text(&out.stdout).contains("0 written (new or changed), 1 unchanged"),
        "{}",
        text(&out.stdout)
    );
    let stored = stored_boundaries(&dir, "31498");
    assert_eq!(stored.len(), 2);
    assert_eq!(
        stored[0].valid_to.map(|d| d.to_string()).as_deref(),
        Some("2022-01-01")
    );
    assert_eq!(stored[1].valid_to, None);
    assert_eq!(stored[1].source, "Quyết định 1/QĐ-UBND");

    // Broken JSON: one error, exit 2, nothing written.
    let broken = dir.join("broken.geojson");
    std::fs::write(
        &broken,
        r#"{"type":"FeatureCollection","features":[{"type":"Feature","#,
    )
    .unwrap();
    let out = import_boundaries(&broken, &dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("not valid JSON"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(stored_boundaries(&dir, "31498").len(), 2);
}

#[test]
fn vaccinations_import_reports_bad_lines_keeps_good_ones_and_is_idempotent() {
    let dir = tempdir("vaccinations");
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/soctrang_units.json");
    let out = bin()
        .args(["import", "units"])
        .arg(&units)
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let people = dir.join("population.csv");
    std::fs::write(&people, CSV).unwrap();
    import(&people, &dir);
    let file = dir.join("doses.csv");
    let csv = "citizen_id,product,dose_number,series_doses,date,lot,site,country
094090123456,Vero Cell,1,,2021-09-01,202107B1,Trạm Y tế Phường 2,
094090123456,BBIBP-CorV,2,2,2021-09-29,202108A3,Trạm Y tế Phường 2,VN
094185000123,Pfizer,1,,2021-10-15,FK8891,Bệnh viện Đa khoa tỉnh,
094185000123,Comirnaty,1,,2021-10-15,FK8891,Bệnh viện Đa khoa tỉnh,
094185000123,Moderna,3,,2021-11-01,,Trạm Y tế,
094185000123,Sputnik Q,1,,2021-11-01,,Trạm Y tế,
094090123456,Pfizer,1,,2099-01-01,,Trạm Y tế,
094315000777,Pfizer,1,,2014-01-01,,Trạm Y tế,
094090999999,Pfizer,1,,2021-11-01,,Trạm Y tế,
094090123456,Janssen,1,,2021-12-01,,Trạm Y tế,XX
094090123456,AstraZeneca,1,,2021-12-01,,,
094090123456,Inactivated-SARS-CoV-2-Vero-Cell,1,,2021-09-01,202107B1,Trạm Y tế Phường 2,
";
    std::fs::write(&file, csv).unwrap();
    let vaccinations = |file: &Path| {
        bin()
            .args(["import", "vaccinations"])
            .arg(file)
            .arg("--data-dir")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = vaccinations(&file);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_reported(
        &stderr,
        &[
            ("line 6: dose_number", "above the series"),
            ("line 7: product", "not a known vaccine"),
            ("line 8: date", "future"),
            ("line 9: date", "before the person's birth"),
            ("line 10: citizen_id", "not in the population registry"),
            ("line 11: country", "country code"),
            ("line 12: site", "site"),
        ],
    );
    // Line 5 repeats line 4 under another name of the same product; line 13 names line 2's Vero Cell by its
    // withdrawn EU code: the same dose, unchanged.
    assert!(
        stdout.contains("12 rows read: 3 written (new or changed), 2 unchanged, 7 rejected"),
        "{stdout}\n{stderr}"
    );
    let again = vaccinations(&file);
    assert!(
        text(&again.stdout).contains("0 written (new or changed), 5 unchanged, 7 rejected"),
        "{}",
        text(&again.stdout)
    );
    // Only the good lines: a re-import changes nothing and exits 0.
    let good = dir.join("good.csv");
    std::fs::write(&good, csv.lines().take(5).collect::<Vec<_>>().join("\n")).unwrap();
    let out = vaccinations(&good);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("4 rows read: 0 written (new or changed), 4 unchanged, 0 rejected"),
        "{}",
        text(&out.stdout)
    );
    // The same person, product and day with another lot: reported, the stored dose kept.
    let conflict = dir.join("conflict.csv");
    std::fs::write(
        &conflict,
        "citizen_id,product,dose_number,series_doses,date,lot,site,country
094090123456,Vero Cell,1,,2021-09-01,OTHERLOT,Trạm Y tế Phường 2,
",
    )
    .unwrap();
    let out = vaccinations(&conflict);
    assert_eq!(out.status.code(), Some(1));
    assert_reported(
        &text(&out.stderr),
        &[("line 2: lot", "the stored dose is kept")],
    );
    let store_dir = dir.clone();
    let doses = tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(async move {
            let store = kiemdich_store::Store::open_data_dir(&store_dir)
                .await
                .unwrap();
            let id = kiemdich_domain::CitizenId::parse("094090123456").unwrap();
            store.doses_of(&id).await.unwrap()
        });
    assert_eq!(doses.len(), 2);
    assert_eq!(doses[0].lot.as_deref(), Some("202107B1"));
    assert_eq!(doses[0].product.mp(), "BBIBP-CorV");
    assert_eq!(doses[0].source, kiemdich_domain::DoseSource::Csv);
}

#[test]
fn results_import_applies_effects_reports_bad_lines_and_is_idempotent() {
    use kiemdich_domain::testing::{LabelKind, label};
    use kiemdich_domain::{CitizenId, SampleReason, TestType};
    use kiemdich_store::{NewSample, Store};
    let dir = tempdir("results");
    let people = dir.join("population.csv");
    std::fs::write(&people, CSV).unwrap();
    import(&people, &dir);
    let now = chrono::Utc::now().timestamp();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (an, be, binh, cuong, pool) = rt.block_on(async {
        let store = Store::open_data_dir(&dir).await.unwrap();
        let order = |citizen: &str, test_type| NewSample {
            citizen_id: CitizenId::parse(citizen).unwrap(),
            commune_code: "31498".into(),
            reason: SampleReason::Screening,
            test_type,
            due_on: None,
            collected_at: Some(now - 86_400),
            collected_where: None,
            follows: None,
        };
        let ids: Vec<i64> = store
            .order_samples(
                &[
                    order("094090123456", TestType::Pcr),
                    order("094185000123", TestType::Pcr),
                    order("094190123456", TestType::Pcr),
                    order("094090000001", TestType::RapidAntigen),
                ],
                "test",
            )
            .await
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        let (pool, _) = store.create_pool(&ids[1..3], "test").await.unwrap();
        store.close().await;
        (ids[0], ids[1], ids[2], ids[3], pool)
    });
    let _ = (be, binh);
    let at = chrono::DateTime::from_timestamp(now - 3600, 0)
        .unwrap()
        .to_rfc3339();
    let sample = |id| label(LabelKind::Sample, id);
    let csv = format!(
        "sample_id,result,tested_at,lab,ct
{},positive,{at},CDC Sóc Trăng,22.1
{},negative,{at},CDC Sóc Trăng,
{cuong},negative,{at},Trạm Y tế Phường 2,
M-00ZZZZ-1,negative,{at},CDC Sóc Trăng,
{},negative,{at},CDC Sóc Trăng,
{},maybe,{at},CDC Sóc Trăng,99
{},negative,2099-01-01 10:00,CDC Sóc Trăng,
",
        sample(an),
        label(LabelKind::Pool, pool),
        sample(an),
        sample(cuong),
        sample(cuong),
    );
    let file = dir.join("results.csv");
    std::fs::write(&file, &csv).unwrap();
    let results = |file: &Path| {
        bin()
            .args(["import", "results"])
            .arg(file)
            .arg("--data-dir")
            .arg(&dir)
            .output()
            .unwrap()
    };
    let out = results(&file);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert_reported(
        &stderr,
        &[
            ("line 5: sample_id", "label"),
            ("line 6: sample_id", "already resulted"),
            ("line 7: result", "unknown value"),
            ("line 7: result", "ct: a Ct value runs from 0 to 45"),
            ("line 8: tested_at", "future"),
        ],
    );
    assert!(
        stdout.contains("7 rows read: 3 written (new or changed), 0 unchanged, 4 rejected"),
        "{stdout}\n{stderr}"
    );
    let count = |table: &str| -> i64 {
        rt.block_on(async {
            use sqlx::Connection as _;
            let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
            let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
                .fetch_one(&mut conn)
                .await
                .unwrap()
        })
    };
    // The positive opened one case; the negative pool gave both members a result.
    assert_eq!(count("cases"), 1);
    assert_eq!(count("results"), 5);
    let again = results(&file);
    assert!(
        text(&again.stdout).contains("0 written (new or changed), 3 unchanged, 4 rejected"),
        "{}",
        text(&again.stdout)
    );
    assert_eq!((count("cases"), count("results")), (1, 5));
    // Only the good lines: a re-import changes nothing, reports nothing and exits 0.
    let good = dir.join("good.csv");
    std::fs::write(&good, csv.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    let out = results(&good);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stderr).trim().is_empty(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("3 rows read: 0 written (new or changed), 3 unchanged, 0 rejected"),
        "{}",
        text(&out.stdout)
    );
}
