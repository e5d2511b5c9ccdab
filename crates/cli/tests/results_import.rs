//! The fast result import writes exactly what entering the same lines one at a time writes: a big laboratory
//! file with bad lines, repeats (same and differing, inside a batch and across batches), individual and pooled
//! results, PCR and rapid antigen positives, invalid tests, is imported by `kiemdich import results` into one
//! database and applied line by line through the store's single-result path (`check_results` then
//! `record_results` of one line, as the API enters a result) into a second; every table the effects touch must
//! then hold the same rows, and the same lines must be rejected. On SQLite, and on PostgreSQL when
//! `KIEMDICH_TEST_PG_URL` is set.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use kiemdich_domain::testing::{LabelKind, RawResult, label};
use kiemdich_domain::{CitizenId, ResultSource, Rules, SampleReason, TestType};
use kiemdich_store::{LineCheck, NewSample, ResultOutcome, Store};
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Row};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// People in the registry; each has two PCR samples and every fifth a rapid antigen one.
const PEOPLE: usize = 400;
/// The import's batch, small here so that the file spans several batches.
const BATCH: &str = "250";

fn tempdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiemdich_cli_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A fresh database: its URL and the arguments that point the binary at it.
struct Db {
    url: String,
    args: Vec<String>,
}

async fn fresh(backend: &str, dir: &Path, name: &str) -> Option<Db> {
    if backend == "sqlite" {
        let data = dir.join(name);
        std::fs::create_dir_all(&data).unwrap();
        let url = format!("sqlite://{}?mode=rwc", data.join("kiemdich.db").display());
        return Some(Db {
            args: vec!["--data-dir".into(), data.display().to_string()],
            url,
        });
    }
    let Ok(base) = std::env::var("KIEMDICH_TEST_PG_URL") else {
        eprintln!("skipped on PostgreSQL: KIEMDICH_TEST_PG_URL is not set");
        return None;
    };
    let db = format!("kd_results_{name}_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&base).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {db}")))
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .execute(&mut conn)
        .await
        .unwrap();
    std::fs::create_dir_all(dir.join(name)).unwrap();
    let (root, _) = base.rsplit_once('/').unwrap();
    let url = format!("{root}/{db}");
    Some(Db {
        args: vec![
            "--data-dir".into(),
            dir.join(name).display().to_string(),
            "--db".into(),
            url.clone(),
        ],
        url,
    })
}

fn bin(args: &[&str], db: &Db) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiemdich"))
        .env_remove("KIEMDICH_DATA_DIR")
        .env_remove("KIEMDICH_DB")
        .env("KIEMDICH_LOG", "warn")
        .args(args)
        .args(&db.args)
        .output()
        .unwrap()
}

fn citizen(i: usize) -> String {
    format!("0940901{i:05}")
}

/// The registry, the samples and pools, and a live pass for every person: the same in both databases.
async fn seed(db: &Db, dir: &Path) {
    let people = dir.join("population.csv");
    let mut csv =
        String::from("citizen_id,full_name,date_of_birth,sex,commune_code,address,phone\n");
    for i in 0..PEOPLE {
        let commune = ["31498", "31501", "31569"][i % 3];
        let phone = if i % 4 == 3 {
            String::new()
        } else {
            format!("09123{i:05}")
        };
        // Names hold letters only: two made from the index.
        let given: String = [i % 26, i / 26 % 26]
            .iter()
            .map(|&k| char::from(b'a' + u8::try_from(k).unwrap()))
            .collect();
        csv.push_str(&format!(
            "{},Nguyễn Văn {given},1990-05-17,M,{commune},{i} Lê Lợi,{phone}\n",
            citizen(i)
        ));
    }
    std::fs::write(&people, csv).unwrap();
    let out = bin(&["import", "population", people.to_str().unwrap()], db);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let store = Store::connect(&db.url).await.unwrap();
    let now = chrono::Utc::now().timestamp();
    let order = |i: usize, test_type| NewSample {
        citizen_id: CitizenId::parse(&citizen(i)).unwrap(),
        commune_code: ["31498", "31501", "31569"][i % 3].into(),
        reason: SampleReason::Screening,
        test_type,
        due_on: None,
        collected_at: Some(now - 86_400),
        collected_where: None,
        follows: None,
    };
    let mut samples = Vec::new();
    for i in 0..PEOPLE {
        samples.push(order(i, TestType::Pcr));
        samples.push(order(i, TestType::Pcr));
        if i % 5 == 0 {
            samples.push(order(i, TestType::RapidAntigen));
        }
    }
    let ids: Vec<i64> = store
        .order_samples(&samples, "test")
        .await
        .unwrap()
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids.first(), Some(&1));
    // Thirty pools of five second PCR samples (people 0..150).
    for p in 0..30 {
        let members: Vec<i64> = (0..5).map(|k| second_pcr(p * 5 + k)).collect();
        store.create_pool(&members, "test").await.unwrap();
    }
    store.close().await;

    let mut conn = AnyConnection::connect(&db.url).await.unwrap();
    sqlx::query("INSERT INTO declarations (ref, submitted_at, submitter, consent, body) VALUES ('T', $1, 'test', $2, '{}')")
        .bind(now)
        .bind(true)
        .execute(&mut conn)
        .await
        .unwrap();
    for i in 0..PEOPLE {
        sqlx::query("INSERT INTO passes (id, citizen_id, declaration_id, kid, status, issued_at, expires_at, token) \
             SELECT $1, $2, MIN(id), 'k', 'green', $3, $4, 't' FROM declarations")
            .bind(format!("P{i}"))
            .bind(citizen(i))
            .bind(now - 3600)
            .bind(now + 86_400)
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Sample ids as `seed` orders them: per person two PCR, then (every fifth person) a rapid antigen one.
fn first_pcr(i: usize) -> i64 {
    let before = 2 * i + i.div_ceil(5);
    i64::try_from(before).unwrap() + 1
}

fn second_pcr(i: usize) -> i64 {
    first_pcr(i) + 1
}

fn antigen(i: usize) -> i64 {
    assert_eq!(i % 5, 0);
    first_pcr(i) + 2
}

/// The laboratory's file: every kind of line, in an order that puts repeats inside and across batches; and
/// the lines naming a member of a pool just resulted negative in the same batch.
fn file(now: i64) -> (String, BTreeSet<u64>) {
    let at = chrono::DateTime::from_timestamp(now - 3600, 0)
        .unwrap()
        .to_rfc3339();
    let later = chrono::DateTime::from_timestamp(now - 1800, 0)
        .unwrap()
        .to_rfc3339();
    let s = |id: i64| label(LabelKind::Sample, id);
    let mut lines: Vec<String> = Vec::new();
    let mut members_of_negative_pools = BTreeSet::new();
    for i in 0..PEOPLE {
        let (result, ct) = match i % 23 {
            3 | 17 => ("positive", "21.5"),
            11 => ("invalid", ""),
            _ => ("negative", ""),
        };
        lines.push(format!(
            "{},{result},{at},CDC Sóc Trăng,{ct}",
            s(first_pcr(i))
        ));
        if i >= 150 && i % 7 == 0 {
            // A second positive of the same person, in the same or a later batch: one case.
            let again = if i % 23 == 3 { "positive" } else { "negative" };
            lines.push(format!("{},{again},{at},CDC Sóc Trăng,", s(second_pcr(i))));
        }
        if i % 5 == 0 {
            // A person with a PCR and a rapid antigen positive in one batch has their pass revoked by the
            // antigen test whatever the lines' order (the batch applies antigen results first), where lines
            // entered one by one revoke it for the first: such people are left out here.
            let antigen_positive = i % 10 == 0 && !matches!(i % 23, 3 | 17);
            let r = if antigen_positive {
                "positive"
            } else {
                "negative"
            };
            lines.push(format!("{},{r},{at},Trạm Y tế,", s(antigen(i))));
        }
        if i % 13 == 0 && i < 150 {
            let pool = i64::try_from(i / 5 + 1).unwrap();
            let r = ["negative", "positive", "invalid"][i % 3];
            lines.push(format!(
                "{},{r},{at},CDC Sóc Trăng,",
                label(LabelKind::Pool, pool)
            ));
            // A member of that pool named on its own.
            if r == "negative" {
                members_of_negative_pools.insert(u64::try_from(lines.len()).unwrap() + 2);
            }
            lines.push(format!("{},negative,{at},CDC Sóc Trăng,", s(second_pcr(i))));
        }
        if i % 31 == 0 {
            lines.push("M-00ZZZZ-1,negative,2021-09-01 10:00,CDC Sóc Trăng,".into());
            lines.push(format!("{},maybe,{at},CDC Sóc Trăng,99", s(first_pcr(i))));
            lines.push(format!(
                "{},negative,2099-01-01 10:00,CDC Sóc Trăng,",
                s(second_pcr(i))
            ));
        }
        if i % 9 == 4 && i > 20 {
            // Repeats of an earlier line: the same (unchanged) and a differing one (rejected).
            let j = i - 20;
            lines.push(lines[lines.len() - 1].clone());
            let (result, ct) = match j % 23 {
                3 | 17 => ("positive", "21.5"),
                11 => ("invalid", ""),
                _ => ("negative", ""),
            };
            lines.push(format!(
                "{},{result},{at},CDC Sóc Trăng,{ct}",
                s(first_pcr(j))
            ));
            lines.push(format!(
                "{},positive,{later},CDC Sóc Trăng,30",
                s(first_pcr(j + 1))
            ));
        }
    }
    let csv = format!("sample_id,result,tested_at,lab,ct\n{}\n", lines.join("\n"));
    (csv, members_of_negative_pools)
}

/// Entered one line at a time, as the API does: its rejected lines (numbered as the file's).
async fn one_by_one(db: &Db, csv: &str) -> BTreeSet<u64> {
    let store = Store::connect(&db.url).await.unwrap();
    let rules = Rules::default();
    let mut rejected = BTreeSet::new();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    for (i, rec) in reader.deserialize::<RawResult>().enumerate() {
        let line = u64::try_from(i).unwrap() + 2;
        let raw = rec.unwrap();
        let now = chrono::Utc::now().timestamp();
        let checked = store
            .check_results(std::slice::from_ref(&raw), &rules, ResultSource::Csv, now)
            .await
            .unwrap();
        match checked.into_iter().next().unwrap() {
            LineCheck::Ready(r, _) => {
                let out = store
                    .record_results(std::slice::from_ref(&r), &rules, "import:results")
                    .await
                    .unwrap();
                if let Some(ResultOutcome::Differs(_)) = out.first() {
                    rejected.insert(line);
                }
            }
            LineCheck::Same(_) => {}
            LineCheck::Bad(_) => {
                rejected.insert(line);
            }
        }
    }
    store.close().await;
    rejected
}

/// Every row the effects write, without surrogate ids and clock times: results by what they name, samples
/// ordered by results by the sample they follow, pools by their members.
const DUMPS: [&str; 8] = [
    "SELECT COALESCE(r.sample_id, -1) AS a, COALESCE(r.pool_id, -1) AS b, r.result, r.tested_at, r.lab, \
     COALESCE(r.ct, -1) AS ct, r.entered_by, r.source, COALESCE(f.sample_id, -1) AS fs, COALESCE(f.pool_id, -1) AS fp, \
     COALESCE(c.citizen_id, '') AS cc FROM results r LEFT JOIN results f ON f.id = r.from_result_id \
     LEFT JOIN cases c ON c.id = r.case_id",
    "SELECT s.id, s.status, COALESCE(s.pool_id, -1) AS p FROM samples s WHERE s.follows_sample_id IS NULL",
    "SELECT s.follows_sample_id, s.citizen_id, s.commune_code, s.reason, s.test_type, s.status, s.ordered_by, \
     COALESCE(s.due_on, '') AS d FROM samples s WHERE s.follows_sample_id IS NOT NULL",
    "SELECT p.test_type, p.created_by, COALESCE((SELECT MIN(s.id) FROM samples s WHERE s.pool_id = p.id), -1) AS m, \
     (SELECT COUNT(*) FROM samples s WHERE s.pool_id = p.id) AS n FROM pools p",
    "SELECT id, citizen_id, commune_code, classification, state, active, COALESCE(sample_date, '') AS sd, source, \
     detected_in, counted_on, created_by, rule_version FROM cases",
    "SELECT channel, recipient, body, unit_code, secret FROM outbox",
    "SELECT actor, action, subject, detail FROM audit_log",
    "SELECT p.id, COALESCE(p.revoke_reason, '') AS why, (p.revoked_at IS NULL) AS live, \
     (SELECT COUNT(*) FROM revocations v WHERE v.pass_id = p.id) AS n FROM passes p",
];

async fn dump(url: &str) -> Vec<Vec<String>> {
    let mut conn = AnyConnection::connect(url).await.unwrap();
    let mut out = Vec::new();
    for sql in DUMPS {
        let rows = sqlx::query(sql).fetch_all(&mut conn).await.unwrap();
        let mut table: Vec<String> = rows
            .iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| {
                        r.try_get::<String, _>(i)
                            .or_else(|_| r.try_get::<i64, _>(i).map(|v| v.to_string()))
                            .or_else(|_| r.try_get::<f64, _>(i).map(|v| v.to_string()))
                            .or_else(|_| r.try_get::<bool, _>(i).map(|v| i64::from(v).to_string()))
                            .unwrap()
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        table.sort();
        out.push(table);
    }
    out
}

/// The lines the binary reported, by number.
fn reported(stderr: &str) -> BTreeSet<u64> {
    stderr
        .lines()
        .filter_map(|l| l.strip_prefix("line ")?.split(':').next()?.parse().ok())
        .collect()
}

async fn same_effects_as_one_by_one(backend: &str) {
    sqlx::any::install_default_drivers();
    let dir = tempdir(&format!("results_same_{backend}"));
    let (Some(fast), Some(slow)) = (
        fresh(backend, &dir, "fast").await,
        fresh(backend, &dir, "slow").await,
    ) else {
        return;
    };
    seed(&fast, &dir).await;
    seed(&slow, &dir).await;
    let (csv, members) = file(chrono::Utc::now().timestamp());
    let path = dir.join("results.csv");
    std::fs::write(&path, &csv).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_kiemdich"))
        .env_remove("KIEMDICH_DATA_DIR")
        .env_remove("KIEMDICH_DB")
        .env("KIEMDICH_LOG", "warn")
        .args([
            "import",
            "results",
            path.to_str().unwrap(),
            "--batch",
            BATCH,
        ])
        .args(&fast.args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let expected = one_by_one(&slow, &csv).await;

    // A member named after its pool's negative result: entered alone, it is the result the pool gave it
    // (unchanged); in the pool's batch it is checked before the pool is written and reported as pooled, as the
    // batch import always did. Either way nothing of it is written. Every other line is judged alike.
    assert!(!members.is_empty() && members.is_disjoint(&expected));
    let pooled: Vec<&str> = stderr.lines().filter(|l| l.contains("in a pool")).collect();
    assert!(
        members
            .iter()
            .all(|m| pooled.iter().any(|l| l.starts_with(&format!("line {m}: ")))),
        "{stderr}"
    );
    let mut expected_here = expected.clone();
    expected_here.extend(&members);
    assert_eq!(reported(&stderr), expected_here, "{stderr}");
    let (got, want) = (dump(&fast.url).await, dump(&slow.url).await);
    for ((sql, g), w) in DUMPS.iter().zip(&got).zip(&want) {
        assert!(!w.is_empty(), "nothing written by: {sql}");
        assert_eq!(g, w, "{sql}");
    }
    // What the file holds is there: cases opened once per person, positives' passes revoked, pools resulted.
    let cases = &want[4];
    assert!(cases.len() > 20, "{cases:?}");
    assert!(
        want[7].iter().any(|p| p.contains("case:f0")),
        "{:?}",
        want[7]
    );
    assert!(
        want[2].iter().any(|s| s.contains("|resample|")),
        "{:?}",
        want[2]
    );
    assert!(
        want[0].iter().any(|r| r.contains("|pool|")),
        "{:?}",
        want[0]
    );
    assert!(expected.len() > 30, "{expected:?}");

    // The same file again changes nothing and reports only what it reported before.
    let again = Command::new(env!("CARGO_BIN_EXE_kiemdich"))
        .env_remove("KIEMDICH_DATA_DIR")
        .env_remove("KIEMDICH_DB")
        .env("KIEMDICH_LOG", "warn")
        .args([
            "import",
            "results",
            path.to_str().unwrap(),
            "--batch",
            BATCH,
        ])
        .args(&fast.args)
        .output()
        .unwrap();
    assert!(reported(&String::from_utf8_lossy(&again.stderr)).is_subset(&expected_here));
    assert_eq!(dump(&fast.url).await, got);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_import_writes_what_entering_each_line_writes_on_sqlite() {
    same_effects_as_one_by_one("sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_big_import_writes_what_entering_each_line_writes_on_postgres() {
    same_effects_as_one_by_one("postgres").await;
}
