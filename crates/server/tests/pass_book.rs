//! Scans decided from the book of live passes (issue 14): the same decisions as a full check, right after any
//! change on this server, within a second of a change made by another server on the same database, and a
//! token the book does not hold verified in full.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, RESIDENTS, TestApp, person};
use serde_json::{Value, json};
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

on_both_backends!(
    held_passes_follow_revocation_supersession_cases_and_doses_at_once,
    a_token_the_book_does_not_hold_is_verified_in_full,
    a_revocation_written_by_another_server_is_refused_within_a_second,
);

/// Waits until the book is loaded and has applied this server's own writes (the follower is woken by them).
async fn book_current(app: &TestApp) {
    let start = Instant::now();
    while !app.store.book_current() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the book never caught up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn held(app: &TestApp) -> u64 {
    app.state.metrics.pass_checks_held.load(Relaxed)
}

fn verified(app: &TestApp) -> u64 {
    app.state.metrics.pass_checks_verified.load(Relaxed)
}

/// A hospital (admits every colour), with a vaccination requirement of one dose or none.
async fn hospital(app: &TestApp, min_doses: i64) -> i64 {
    let body = json!({"name": "Bệnh viện", "kind": "hospital", "commune_code": COMMUNE, "lat": 9.6, "lon": 105.97,
                      "vaccination": {"min_doses": min_doses}});
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &body)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Posts a scan of `token` at `place` under a new idempotency key.
async fn post_scan(app: &TestApp, place: i64, token: &str) -> reqwest::Response {
    static KEY: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let key = format!("book-{}", KEY.fetch_add(1, Relaxed));
    app.post(
        &format!("/api/v1/locations/{place}/scans"),
        Some(&app.checkpoint),
        &json!({"token": token, "direction": "in", "idempotency_key": key}),
    )
    .await
}

/// Scans `token` at `place` and returns (decision, reason) of the stored answer.
async fn scan(app: &TestApp, place: i64, token: &str) -> (String, String) {
    let res = post_scan(app, place, token).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let v: Value = res.json().await.unwrap();
    (
        v["decision"].as_str().unwrap().to_owned(),
        v["reason"].as_str().unwrap().to_owned(),
    )
}

fn pass_of(answer: &Value) -> (String, String) {
    let pass = &answer["people"][0]["pass"];
    (
        pass["id"].as_str().unwrap().to_owned(),
        pass["token"].as_str().unwrap().to_owned(),
    )
}

async fn held_passes_follow_revocation_supersession_cases_and_doses_at_once(app: TestApp) {
    book_current(&app).await;
    let (anyone, vaccinated) = (hospital(&app, 0).await, hospital(&app, 1).await);
    let (id, token) = pass_of(&app.declare(vec![person(0)]).await);
    let (_, bystander) = pass_of(&app.declare(vec![person(3)]).await);
    book_current(&app).await;
    let m = app.metrics().await;
    assert!(
        m.contains("\nkiemdich_pass_book_passes 2\n")
            && m.contains("\nkiemdich_pass_book_ready 1\n"),
        "the book is loaded and holds the two passes issued: {m}"
    );
    let before = held(&app);
    assert_eq!(
        scan(&app, anyone, &token).await,
        ("admit".into(), "valid".into())
    );
    assert_eq!(
        held(&app),
        before + 1,
        "a live pass issued here is decided from the book"
    );
    assert_eq!(
        scan(&app, vaccinated, &token).await,
        ("refuse".into(), "vaccination_no_data".into())
    );
    // A dose recorded: the next scan knows it, from the database while the book has not applied it yet, then
    // from the book.
    app.dose(0, "2021-09-12").await;
    let verified_before = verified(&app);
    assert_eq!(
        scan(&app, vaccinated, &token).await,
        ("admit".into(), "valid".into())
    );
    assert_eq!(
        held(&app) + verified(&app),
        before + 2 + verified_before + 1
    );
    // Someone else's pass stays in the book meanwhile: only the holders a commit changed wait for it.
    let held_before = held(&app);
    assert_eq!(
        scan(&app, anyone, &bystander).await,
        ("admit".into(), "valid".into())
    );
    assert_eq!(
        held(&app),
        held_before + 1,
        "a bystander is decided from the book"
    );
    book_current(&app).await;
    let held_before = held(&app);
    assert_eq!(
        scan(&app, vaccinated, &token).await,
        ("admit".into(), "valid".into())
    );
    assert_eq!(held(&app), held_before + 1, "the dose is in the book");
    // Revoked: refused at once, as before the book.
    let res = app
        .post(
            &format!("/api/v1/passes/{id}/revoke"),
            Some(&app.officer),
            &json!({"reason": "kiểm tra"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(
        scan(&app, anyone, &token).await,
        ("refuse".into(), "revoked".into())
    );

    // Superseded by a new declaration; the new pass carries the new colour.
    let (_, first) = pass_of(&app.declare(vec![person(1)]).await);
    assert_eq!(
        scan(&app, anyone, &first).await,
        ("admit".into(), "valid".into())
    );
    let mut sick = person(1);
    sick["symptoms"] = json!(["fever"]);
    let (_, second) = pass_of(&app.declare(vec![sick]).await);
    assert_eq!(
        scan(&app, anyone, &first).await,
        ("refuse".into(), "superseded".into())
    );
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    assert_eq!(
        scan(&app, checkpoint, &second).await,
        ("refuse".into(), "status_yellow_not_admitted".into())
    );

    // A case opened revokes the pass.
    let (_, third) = pass_of(&app.declare(vec![person(2)]).await);
    assert_eq!(
        scan(&app, anyone, &third).await,
        ("admit".into(), "valid".into())
    );
    app.confirmed_case(2, 0).await;
    assert_eq!(
        scan(&app, anyone, &third).await,
        ("refuse".into(), "revoked".into())
    );
}

async fn a_token_the_book_does_not_hold_is_verified_in_full(app: TestApp) {
    book_current(&app).await;
    let place = hospital(&app, 0).await;
    let (_, token) = pass_of(&app.declare(vec![person(3)]).await);
    book_current(&app).await;
    // Signed with this deployment's key but never issued: the signature holds, the record does not.
    let key = app.state.signer().unwrap();
    let now = chrono::Utc::now();
    let claims = kiemdich_pass::PassClaims {
        issuer: "VN-94".into(),
        pass_id: kiemdich_pass::PassId::random(),
        issued_at: now,
        expires_at: now + chrono::Duration::hours(1),
        holder: kiemdich_pass::Holder {
            name: RESIDENTS[3].1.into(),
            birth_year: 1990,
            masked_id: "0940******56".into(),
            status: kiemdich_domain::HealthStatus::Green,
            commune: COMMUNE.into(),
            vaccination: kiemdich_domain::VaccinationSummary::NONE,
        },
    };
    let unissued = kiemdich_pass::encode(&claims, &key);
    let (held_before, verified_before) = (held(&app), verified(&app));
    let res = post_scan(&app, place, &unissued).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert!(
        err["detail"].as_str().unwrap().contains("unknown_key"),
        "{err}"
    );
    // One character of a held token changed: not its digest, so the signature decides.
    let mut altered = token.clone().into_bytes();
    let i = altered.len() - 10;
    altered[i] = if altered[i] == b'A' { b'B' } else { b'A' };
    let res = post_scan(&app, place, &String::from_utf8(altered).unwrap()).await;
    assert_eq!(res.status(), 422);
    assert_eq!(
        (held(&app), verified(&app)),
        (held_before, verified_before + 2)
    );
    assert_eq!(
        scan(&app, place, &token).await,
        ("admit".into(), "valid".into())
    );
    assert_eq!(held(&app), held_before + 1);
}

async fn a_revocation_written_by_another_server_is_refused_within_a_second(app: TestApp) {
    book_current(&app).await;
    let place = hospital(&app, 0).await;
    let (_, token) = pass_of(&app.declare(vec![person(1)]).await);
    book_current(&app).await;
    let before = held(&app);
    assert_eq!(
        scan(&app, place, &token).await,
        ("admit".into(), "valid".into())
    );
    assert_eq!(held(&app), before + 1);
    // Another server on the same database: its own store, whose writes this server's book does not see
    // until it reads the change log.
    let other = kiemdich_store::Store::connect(&app.db_url).await.unwrap();
    let revoked = other
        .revoke_passes_of(RESIDENTS[1].0, "quyết định", "staff:other")
        .await
        .unwrap();
    assert_eq!(revoked.len(), 1);
    let start = Instant::now();
    loop {
        let (decision, reason) = scan(&app, place, &token).await;
        if decision == "refuse" {
            assert_eq!(reason, "revoked");
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(1),
            "another server's revocation not seen within a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "revocation by another server seen after {:?}",
        start.elapsed()
    );
    other.close().await;
}
