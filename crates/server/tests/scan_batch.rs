//! Batch sync for offline scanners (`POST /api/v1/scans/batch`) end to end, on SQLite and (when
//! `KIEMDICH_TEST_PG_URL` is set) PostgreSQL: one answer per scan in order, each as the single scan decides it;
//! bad items refused alone; keys stored once across batches and within one; the limits.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, TestApp};
use kiemdich_store::Role;
use serde_json::{Value, json};

on_both_backends!(
    a_mixed_batch_answers_every_scan_in_order_and_stores_the_good_ones,
    a_key_twice_in_one_batch_is_as_if_sent_one_after_the_other,
    a_whole_batch_sent_again_is_a_replay_of_each_scan,
    an_empty_batch_stores_nothing,
    a_batch_of_more_than_500_scans_or_512_kib_is_refused_whole,
    only_scanners_send_batches_and_a_bound_device_only_for_its_place,
);

const BATCH: &str = "/api/v1/scans/batch";

/// Sends `scans` as one batch with `token`, expects 200 and returns the results.
async fn batch(app: &TestApp, token: &str, scans: Vec<Value>) -> Vec<Value> {
    let res = app
        .post(BATCH, Some(token), &json!({ "scans": scans }))
        .await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    answer["results"].as_array().unwrap().clone()
}

fn item(location: i64, token: &str, key: &str) -> Value {
    json!({"location_id": location, "token": token, "direction": "in", "idempotency_key": key})
}

/// The statuses of the results, with their keys.
fn statuses(results: &[Value]) -> Vec<(String, u64)> {
    results
        .iter()
        .map(|r| {
            (
                r["idempotency_key"].as_str().unwrap_or("-").to_owned(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn fields(result: &Value) -> Vec<&str> {
    result["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect()
}

async fn a_mixed_batch_answers_every_scan_in_order_and_stores_the_good_ones(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let elsewhere = app.location("checkpoint", OTHER_COMMUNE).await;
    let (green, yellow) = (app.pass_of(0, false).await, app.pass_of(1, true).await);
    // A checkpoint of one commune: the other commune's checkpoint is out of its reach.
    let scanner = app.token(Role::Checkpoint, COMMUNE).await;
    let res = app
        .post(
            &format!("/api/v1/locations/{checkpoint}/scans"),
            Some(&scanner),
            &json!({"token": green, "direction": "in", "idempotency_key": "old"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let single: Value = res.json().await.unwrap();
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let stale = (chrono::Utc::now() - chrono::Duration::days(4)).to_rfc3339();
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let mut out_of_order = item(checkpoint, &green, "out-of-order");
    out_of_order["scanned_at"] = json!(hour_ago);
    let scans = vec![
        item(checkpoint, &green, "a"),
        item(checkpoint, &green, "old"),
        json!({"location_id": checkpoint, "token": green, "direction": "out", "idempotency_key": "old"}),
        item(checkpoint, "KD1:NOTAPASS", "b"),
        json!({"location_id": checkpoint, "token": green, "direction": "in", "scanned_at": future, "idempotency_key": "c"}),
        item(elsewhere, &green, "d"),
        item(checkpoint, &yellow, "e"),
        json!({"location_id": checkpoint, "token": green, "idempotency_key": "f"}),
        json!({"location_id": checkpoint, "token": green, "direction": "in", "scanned_at": stale, "idempotency_key": "g"}),
        json!({"location_id": checkpoint, "token": green, "direction": "sideways", "idempotency_key": "h"}),
        out_of_order,
        // A control character in a key (PostgreSQL cannot store a NUL in text) is that scan's refusal alone,
        // never its whole group's.
        item(checkpoint, &green, "nul\u{0}key"),
    ];
    let results = batch(&app, &scanner, scans).await;
    let s = |k: &str, n: u64| (k.to_owned(), n);
    assert_eq!(
        statuses(&results),
        vec![
            s("a", 201),
            s("old", 200),
            s("old", 409),
            s("b", 422),
            s("c", 422),
            s("d", 403),
            s("e", 201),
            s("f", 422),
            s("g", 422),
            s("h", 422),
            s("out-of-order", 201),
            s("nul\u{0}key", 422),
        ]
    );
    assert_eq!(fields(&results[11]), ["idempotency_key"]);
    // Decided as the single scan decides, and the replay is the single scan's own event.
    assert_eq!(
        (
            results[0]["decision"].as_str(),
            results[0]["reason"].as_str()
        ),
        (Some("admit"), Some("valid"))
    );
    assert_eq!(results[1]["event_id"], single["event_id"]);
    assert_eq!(
        (
            results[6]["decision"].as_str(),
            results[6]["reason"].as_str()
        ),
        (Some("refuse"), Some("status_yellow_not_admitted"))
    );
    // Refusals say why, as the API's errors do, naming the field.
    assert_eq!(results[2]["error"], "idempotency_conflict");
    assert_eq!(results[3]["error"], "invalid_pass");
    assert_eq!(fields(&results[4]), ["scanned_at"]);
    assert_eq!(fields(&results[8]), ["scanned_at"]);
    assert_eq!(fields(&results[9]), ["direction"]);
    assert!(
        results[7]["detail"].as_str().unwrap().contains("direction"),
        "{}",
        results[7]
    );
    assert_eq!(results[5]["error"], "forbidden");
    for r in &results[2..6] {
        assert!(
            r["message"].is_string() && r.get("event_id").is_none(),
            "{r}"
        );
    }
    // The single scan's event, and the three new ones; nothing of the refused.
    assert_eq!(app.count("presence_events").await, 4);
    let m = app.metrics().await;
    assert!(
        m.contains("kiemdich_scans_total{decision=\"admit\"} 3"),
        "the single scan and two admits of the batch: {m}"
    );
}

async fn a_key_twice_in_one_batch_is_as_if_sent_one_after_the_other(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let results = batch(
        &app,
        &app.checkpoint,
        vec![
            item(checkpoint, &green, "same"),
            item(checkpoint, &green, "same"),
            item(checkpoint, &green, "reused"),
            json!({"location_id": checkpoint, "token": green, "direction": "out", "idempotency_key": "reused"}),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results),
        vec![
            ("same".to_owned(), 201),
            ("same".to_owned(), 200),
            ("reused".to_owned(), 201),
            ("reused".to_owned(), 409),
        ]
    );
    assert_eq!(results[0]["event_id"], results[1]["event_id"]);
    assert_ne!(results[0]["event_id"], results[2]["event_id"]);
    assert_eq!(app.count("presence_events").await, 2);
}

async fn a_whole_batch_sent_again_is_a_replay_of_each_scan(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let market = app.location("market", COMMUNE).await;
    let (green, yellow) = (app.pass_of(0, false).await, app.pass_of(1, true).await);
    let scans = vec![
        item(checkpoint, &green, "r1"),
        item(market, &yellow, "r2"),
        item(checkpoint, &yellow, "r3"),
    ];
    let first = batch(&app, &app.checkpoint, scans.clone()).await;
    assert!(first.iter().all(|r| r["status"] == 201), "{first:?}");
    // The answer was lost: the scanner sends the same batch again.
    let again = batch(&app, &app.checkpoint, scans).await;
    assert!(again.iter().all(|r| r["status"] == 200), "{again:?}");
    for (a, b) in first.iter().zip(&again) {
        assert_eq!(
            (&a["event_id"], &a["decision"], &a["reason"]),
            (&b["event_id"], &b["decision"], &b["reason"])
        );
    }
    assert_eq!(app.count("presence_events").await, 3);
    // Another device's keys are its own: the same keys from it are new scans.
    let other = app.token(Role::Checkpoint, COMMUNE).await;
    let theirs = batch(&app, &other, vec![item(checkpoint, &green, "r1")]).await;
    assert_eq!(theirs[0]["status"], 201);
}

async fn an_empty_batch_stores_nothing(app: TestApp) {
    assert!(batch(&app, &app.checkpoint, vec![]).await.is_empty());
    assert_eq!(app.count("presence_events").await, 0);
    let res = app.post(BATCH, Some(&app.checkpoint), &json!({})).await;
    assert_eq!(res.status(), 422, "the list is required");
}

async fn a_batch_of_more_than_500_scans_or_512_kib_is_refused_whole(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let scans = |n: usize| -> Vec<Value> {
        (0..n)
            .map(|i| item(checkpoint, &green, &format!("k{i}")))
            .collect()
    };
    let res = app
        .post(BATCH, Some(&app.checkpoint), &json!({"scans": scans(501)}))
        .await;
    assert_eq!(res.status(), 413);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "too_large");
    assert!(
        err["message"].as_str().unwrap().contains("500"),
        "the message says the limit: {err}"
    );
    assert_eq!(app.count("presence_events").await, 0);
    // Over 512 KiB: refused before the body is read, and the server closes the connection.
    let huge = json!({"scans": [item(checkpoint, &green, "big")], "pad": "x".repeat(530_000)});
    let res = app
        .client
        .post(app.at(BATCH))
        .bearer_auth(&app.checkpoint)
        .header("connection", "close")
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // 500 scans (more than the 64 KiB any other request may send) are all stored, once each.
    let results = batch(&app, &app.checkpoint, scans(500)).await;
    assert_eq!(results.len(), 500);
    assert!(results.iter().all(|r| r["status"] == 201));
    assert_eq!(app.count("presence_events").await, 500);
}

async fn only_scanners_send_batches_and_a_bound_device_only_for_its_place(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let market = app.location("market", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let res = app
        .post(
            BATCH,
            Some(&app.officer),
            &json!({"scans": [item(checkpoint, &green, "x")]}),
        )
        .await;
    assert_eq!(res.status(), 403, "officers do not scan");
    let res = app
        .post(
            BATCH,
            None,
            &json!({"scans": [item(checkpoint, &green, "x")]}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let device: Value = app.post_json("/api/v1/tokens", Some(&app.admin), &json!({"name": "máy quét chợ", "role": "checkpoint", "unit_code": COMMUNE, "location_id": market})).await;
    let device = device["token"].as_str().unwrap();
    let results = batch(
        &app,
        device,
        vec![
            item(checkpoint, &green, "there"),
            item(market, &green, "here"),
            item(999_999, &green, "nowhere"),
        ],
    )
    .await;
    assert_eq!(
        statuses(&results),
        vec![
            ("there".to_owned(), 403),
            ("here".to_owned(), 201),
            ("nowhere".to_owned(), 403)
        ]
    );
    assert_eq!(app.count("presence_events").await, 1);
}
