//! Several servers on one database behave as one (issue 14, part 5): each scenario starts a second server, with
//! its own connection pool, data directory and sender, beside the test app, on SQLite and (when
//! `KIEMDICH_TEST_PG_URL` is set) PostgreSQL. The real binary run twice is in `crates/cli/tests/multi_server.rs`.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{RESIDENTS, Sent, TestApp};
use kiemdich_domain::Rules;
use kiemdich_server::AppState;
use kiemdich_server::jobs::{Job, run_if_due};
use kiemdich_store::{Kek, Role, Store};
use serde_json::json;
use std::sync::Arc;

on_both_backends!(
    periodic_jobs_run_once_per_slot_across_servers,
    a_slot_whose_holder_died_is_run_by_another_server_after_the_term,
    outbox_messages_are_sent_once_across_servers,
    sign_in_failures_split_across_servers_meet_one_limit,
    a_key_rotated_on_one_server_signs_on_the_other_after_its_refresh,
    plain_key_files_of_an_older_version_are_sealed_and_only_the_right_kek_opens_them,
);

/// A second server on the test app's database: its own pool, an empty data directory of its own, the same
/// KEK (as the configuration of every server of a deployment gives it), its own sender.
struct Second {
    url: String,
    state: AppState,
    sent: Arc<Sent>,
}

async fn second_server(app: &TestApp) -> Second {
    let kek: Kek = kiemdich_store::sealed::kek(&app.store, &app.data_dir).unwrap();
    let store = Store::connect(&app.db_url).await.unwrap().with_kek(kek);
    let dir = app.data_dir.with_extension("second");
    std::fs::create_dir_all(&dir).unwrap();
    let sent = Arc::new(Sent::default());
    let state = AppState::new(store, dir, "VN-94", Rules::default())
        .await
        .unwrap()
        .with_sender(sent.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(kiemdich_server::serve(listener, state.clone()));
    Second { url, state, sent }
}

/// Uploads `n` diagnosis keys (as a confirmed case's phone would) with a code made for the purpose, their
/// bytes `base + 1`, `base + 2`, ….
async fn upload_keys(store: &Store, code: &str, base: u8, n: u8) {
    use kiemdich_proximity::{EnIntervalNumber, TemporaryExposureKey};
    let now = chrono::Utc::now().timestamp();
    let today = chrono::Utc::now().date_naive();
    let new = kiemdich_store::NewProximityCode {
        code_hash: code.into(),
        case_id: 1,
        unit_code: kiemdich_domain::UnitCode::parse(common::COMMUNE).unwrap(),
        window_start: EnIntervalNumber::from_unix(now - 5 * 86_400),
        expires_at: now + 3600,
    };
    store
        .issue_proximity_code("test", &new, today, None)
        .await
        .unwrap();
    let day = EnIntervalNumber::from_unix(now).0 / 144 * 144;
    let keys: Vec<_> = (1..=n)
        .map(|d| {
            TemporaryExposureKey::generate(EnIntervalNumber(day - u32::from(d) * 144), |k| {
                *k = [base + d; 16]
            })
        })
        .collect();
    assert!(
        store
            .upload_proximity_keys(code, &keys, now, today)
            .await
            .unwrap()
            .is_some()
    );
}

async fn periodic_jobs_run_once_per_slot_across_servers(app: TestApp) {
    let second = second_server(&app).await;
    // The servers' first look at the jobs (the current hour) runs in the background: wait until it is done,
    // then take the start of the slot two hours ahead, where nobody was.
    start_up_jobs_done(&app).await;
    let at = (chrono::Utc::now().timestamp() / 3600 + 2) * 3600;
    upload_keys(&app.store, "multi-a", 10, 2).await;
    let before = app.count("proximity_exports").await;
    let (a, b) = tokio::join!(
        run_if_due(&app.state, Job::ProximityExport, at),
        run_if_due(&second.state, Job::ProximityExport, at)
    );
    assert_eq!(
        [a.unwrap(), b.unwrap()].iter().filter(|r| **r).count(),
        1,
        "exactly one server runs the slot"
    );
    assert_eq!(app.count("proximity_exports").await, before + 1);
    // Later in the same hour, with new keys: the slot has been run, neither server cuts another batch.
    upload_keys(&app.store, "multi-b", 20, 1).await;
    for state in [&app.state, &second.state] {
        assert!(
            !run_if_due(state, Job::ProximityExport, at + 600)
                .await
                .unwrap()
        );
    }
    assert_eq!(app.count("proximity_exports").await, before + 1);
    // The next hour: one more batch, by whichever server comes first.
    assert!(
        run_if_due(&second.state, Job::ProximityExport, at + 3600)
            .await
            .unwrap()
    );
    assert!(
        !run_if_due(&app.state, Job::ProximityExport, at + 3601)
            .await
            .unwrap()
    );
    assert_eq!(app.count("proximity_exports").await, before + 2);
    // The purge is claimed apart from the export.
    let (a, b) = tokio::join!(
        run_if_due(&app.state, Job::Purge, at),
        run_if_due(&second.state, Job::Purge, at)
    );
    assert_eq!(a.unwrap() as u8 + b.unwrap() as u8, 1);
}

/// Waits until the current hour's jobs (purge, export, partitions) have been run by one of the servers.
async fn start_up_jobs_done(app: &TestApp) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    for _ in 0..200 {
        let done: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_leases WHERE done = 1")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        if done == i64::try_from(Job::ALL.len()).unwrap() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the start-up jobs did not run");
}

async fn a_slot_whose_holder_died_is_run_by_another_server_after_the_term(app: TestApp) {
    use kiemdich_store::SlotClaim;
    let slot = 1_000_000;
    let claim = |holder, now| SlotClaim {
        job: "test",
        slot,
        holder,
        now,
        term_secs: 600,
    };
    assert!(app.store.claim_slot(claim("dies", 100)).await.unwrap());
    // It never finishes: within the term nobody else may run the slot, after it another may.
    assert!(!app.store.claim_slot(claim("other", 699)).await.unwrap());
    assert!(app.store.claim_slot(claim("other", 701)).await.unwrap());
    app.store.finish_slot("test", slot, "other").await.unwrap();
    assert!(
        !app.store.claim_slot(claim("third", 100_000)).await.unwrap(),
        "a finished slot is never run again"
    );
    let next = SlotClaim {
        slot: slot + 1,
        ..claim("third", 100_000)
    };
    assert!(app.store.claim_slot(next).await.unwrap());
}

async fn outbox_messages_are_sent_once_across_servers(app: TestApp) {
    let second = second_server(&app).await;
    // One-time codes requested through both servers: each is an SMS in the outbox, for either to send.
    let client = reqwest::Client::new();
    let mut accepted = 0;
    for i in 0..20 {
        let base = if i % 2 == 0 { &app.url } else { &second.url };
        let res = client
            .post(format!("{base}/api/v1/otp"))
            .json(&json!({"citizen_id": RESIDENTS[i % 2].0}))
            .send()
            .await
            .unwrap();
        if res.status() == 202 {
            accepted += 1;
        }
    }
    assert!(accepted >= 2, "codes were accepted ({accepted})");
    let sent_ids = || -> Vec<i64> {
        app.sent
            .all()
            .into_iter()
            .chain(second.sent.all())
            .filter(|m| m.secret)
            .map(|m| m.id)
            .collect()
    };
    // Both dispatchers poll every half second; a claimed message reaches its sender just after.
    for _ in 0..100 {
        if sent_ids().len() >= accepted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(app.store.unsent_outbox(10).await.unwrap().is_empty());
    let mut ids = sent_ids();
    let sent = ids.len();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), sent, "no message was sent by both servers");
    assert_eq!(sent, accepted, "every accepted code was sent once");
}

async fn sign_in_failures_split_across_servers_meet_one_limit(app: TestApp) {
    let second = second_server(&app).await;
    let hash = kiemdich_server::hash_password("đúng mật khẩu 2021").unwrap();
    let unit = kiemdich_domain::UnitCode::parse("94").unwrap();
    app.store
        .create_staff("nhanvien", &hash, Role::Officer, &unit)
        .await
        .unwrap();
    let free = Rules::default().security.free_failures;
    let client = reqwest::Client::new();
    let login = |base: String, password: &'static str| {
        let req = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&json!({"username": "nhanvien", "password": password}));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    // The free failures and one more, alternating between the servers: each saw only about half of them.
    for i in 0..=free {
        let base = if i % 2 == 0 { &app.url } else { &second.url };
        assert_eq!(login(base.clone(), "sai").await, 401, "failure {i}");
    }
    for base in [&app.url, &second.url] {
        assert_eq!(
            login(base.clone(), "đúng mật khẩu 2021").await,
            429,
            "the account waits on every server, even with the right password"
        );
    }
}

async fn a_key_rotated_on_one_server_signs_on_the_other_after_its_refresh(app: TestApp) {
    let second = second_server(&app).await;
    let before = app.state.signer().unwrap().kid().to_base64url();
    assert_eq!(
        second.state.signer().unwrap().kid().to_base64url(),
        before,
        "the second server found the sealed key; it made none of its own"
    );
    let res = app
        .post("/api/v1/keys/rotate", Some(&app.admin), &json!({}))
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    app.state.refresh().await.unwrap();
    let after = app.state.signer().unwrap().kid().to_base64url();
    assert_ne!(after, before);
    // What the periodic refresh does every few seconds on the other server.
    second.state.refresh().await.unwrap();
    assert_eq!(second.state.signer().unwrap().kid().to_base64url(), after);
    assert!(
        !second.state.data_dir.join("keys").exists(),
        "no private key was written to the second server's disk"
    );
    // A pass issued by the second server verifies on the first.
    let token = second_token(&app, &second).await;
    assert_eq!(app.verify(&token).await["valid"], true);
}

/// A pass issued through the second server, for resident 0.
async fn second_token(app: &TestApp, second: &Second) -> String {
    let res = reqwest::Client::new()
        .post(format!("{}/api/v1/declarations", second.url))
        .bearer_auth(&app.officer)
        .json(&json!({"people": [common::person(0)], "consent": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let v: serde_json::Value = res.json().await.unwrap();
    v["people"][0]["pass"]["token"].as_str().unwrap().to_owned()
}

async fn plain_key_files_of_an_older_version_are_sealed_and_only_the_right_kek_opens_them(
    app: TestApp,
) {
    use kiemdich_store::keyring;
    // A deployment upgraded from a version before sealed keys: its one key has the public half in the database
    // and the seed in keys/<kid>.key (the test app's own key is retired to leave it the only one).
    let own = app.state.signer().unwrap().kid().to_base64url();
    keyring::end(
        &app.store,
        &app.data_dir,
        &own,
        chrono::Utc::now().timestamp(),
    )
    .await
    .unwrap();
    let key = kiemdich_pass::SigningKey::generate();
    let kid = key.kid().to_base64url();
    let row = kiemdich_store::SigningKeyRow {
        kid: kid.clone(),
        alg: "EdDSA".into(),
        public_key: kiemdich_pass::TrustedKey::ed25519(&key.public_key(), chrono::Utc::now(), None)
            .public_key,
        not_before: chrono::Utc::now().timestamp(),
        not_after: None,
        signed_until: None,
    };
    let file = app.data_dir.join("keys").join(format!("{kid}.key"));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, hex::encode(key.to_secret_bytes())).unwrap();
    app.store.insert_signing_key(&row).await.unwrap();
    assert_eq!(
        keyring::seal_key_files(&app.store, &app.data_dir)
            .await
            .unwrap(),
        1
    );
    assert!(!file.exists(), "the plain file is deleted once sealed");
    let active = keyring::active(&app.store, &app.data_dir)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(active.kid().to_base64url(), kid, "the sealed key signs");
    let kek = kiemdich_store::sealed::kek(&app.store, &app.data_dir).unwrap();
    assert!(app.store.check_kek(&kek).await.unwrap() >= 1);
    let wrong = app
        .store
        .check_kek(&Kek::generate().unwrap())
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("KIEMDICH_KEK"), "{wrong}");
}
