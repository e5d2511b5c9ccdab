//! The HTTP API end to end, on SQLite and (when `KIEMDICH_TEST_PG_URL` is set) PostgreSQL: every test runs
//! against the real server over a fresh database of each backend.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, person};
use serde_json::{Value, json};

on_both_backends!(
    officer_declaration_issues_a_pass_that_verifies_online_and_offline,
    identity_mismatch_and_unknown_people_get_no_pass,
    an_officer_settles_a_mismatch_on_the_identity_document,
    a_new_declaration_supersedes_the_previous_pass,
    a_declaration_sent_again_with_its_key_is_answered_not_stored_twice,
    concurrent_declarations_for_one_person_leave_exactly_one_live_pass,
    officers_cannot_declare_outside_their_jurisdiction,
    malformed_requests_are_refused_with_field_errors_and_write_nothing,
    errors_are_in_the_callers_language_with_a_code_per_field,
    self_declaration_with_a_one_time_code_covers_the_family,
    one_time_codes_lock_expire_and_are_single_use,
    expired_codes_are_refused,
    queued_messages_are_delivered_once_by_competing_dispatchers,
    qr_images_hold_exactly_the_token,
    altered_and_foreign_tokens_are_refused_with_reasons,
    revocation_stops_a_pass_at_once_and_reaches_the_delta,
    registry_reads_are_audited_and_bounded_by_jurisdiction,
    staff_login_and_admin_endpoints,
    operations_endpoints,
    locations_are_created_within_jurisdiction_with_rule_defaults,
    scans_decide_by_policy_and_store_once_per_key,
    bad_scans_are_refused_and_store_nothing,
    concurrent_resends_of_one_scan_store_one_event,
    presence_is_for_health_and_officers_in_jurisdiction_and_audited,
    retention_purges_old_presence_only,
    checkpoint_scans_report_declared_journeys_to_both_communes,
);

async fn scan(app: &TestApp, token: &str, location: i64, body: Value) -> reqwest::Response {
    app.post(
        &format!("/api/v1/locations/{location}/scans"),
        Some(token),
        &body,
    )
    .await
}

async fn locations_are_created_within_jurisdiction_with_rule_defaults(app: TestApp) {
    let id = app.location("checkpoint", COMMUNE).await;
    let place: Value = app
        .get_json(&format!("/api/v1/locations/{id}"), Some(&app.checkpoint))
        .await;
    assert_eq!(
        (place["kind"].as_str(), place["dwell_minutes"].as_i64()),
        (Some("checkpoint"), Some(60))
    );
    assert_eq!(
        place["admits"],
        json!(["green"]),
        "checkpoints admit green by the shipped rules"
    );
    let hospital = app.location("hospital", COMMUNE).await;
    let place: Value = app
        .get_json(
            &format!("/api/v1/locations/{hospital}"),
            Some(&app.checkpoint),
        )
        .await;
    assert_eq!(place["admits"], json!(["green", "yellow", "orange", "red"]));
    let bad = json!({"name": "", "kind": "bar", "commune_code": "99999", "lat": 200.0, "lon": 0.0, "admits": ["blue"]});
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &bad)
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    let fields = common::error_fields(&err);
    for f in ["name", "kind", "commune_code", "lat", "admits[0]"] {
        assert!(fields.contains(&f), "{f} in {fields:?}");
    }
    let mine: Value = app
        .get_json("/api/v1/locations", Some(&app.commune_officer))
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    let elsewhere = json!({"name": "Chợ", "kind": "market", "commune_code": OTHER_COMMUNE, "lat": 9.6, "lon": 105.9});
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &elsewhere)
        .await;
    assert_eq!(res.status(), 201);
    let theirs: Value = app
        .get_json("/api/v1/locations", Some(&app.commune_officer))
        .await;
    assert_eq!(
        theirs.as_array().unwrap().len(),
        2,
        "a location in another commune is not listed"
    );
    assert_eq!(
        app.post("/api/v1/locations", Some(&app.commune_officer), &elsewhere)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post("/api/v1/locations", Some(&app.checkpoint), &elsewhere)
            .await
            .status(),
        403
    );
}

async fn scans_decide_by_policy_and_store_once_per_key(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let (green, yellow) = (app.pass_of(0, false).await, app.pass_of(1, true).await);
    let res = scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "in", "idempotency_key": "k1"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!(
        (first["decision"].as_str(), first["status"].as_str()),
        (Some("admit"), Some("green"))
    );
    let res = scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": yellow, "direction": "in", "idempotency_key": "k2"}),
    )
    .await;
    let refused: Value = res.json().await.unwrap();
    assert_eq!(
        (refused["decision"].as_str(), refused["reason"].as_str()),
        (Some("refuse"), Some("status_yellow_not_admitted"))
    );
    // The same key again: the same answer, no second event.
    let res = scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "in", "idempotency_key": "k1"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), first);
    // The same key with another body is a conflict.
    let res = scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "out", "idempotency_key": "k1"}),
    )
    .await;
    assert_eq!(res.status(), 409);
    // An offline scan an hour old keeps its time.
    let hour_ago = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let res = scan(&app, &app.checkpoint, checkpoint, json!({"token": green, "direction": "out", "scanned_at": hour_ago, "idempotency_key": "k3"})).await;
    assert_eq!(res.status(), 201);
    // A revoked pass is a recorded refusal.
    let id = app
        .get_json(
            &format!("/api/v1/residents/{}", RESIDENTS[0].0),
            Some(&app.health),
        )
        .await["pass"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.post(
        &format!("/api/v1/passes/{id}/revoke"),
        Some(&app.health),
        &json!({"reason": "F1"}),
    )
    .await;
    let res = scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "in", "idempotency_key": "k4"}),
    )
    .await;
    assert_eq!(res.status(), 201);
    assert_eq!(res.json::<Value>().await.unwrap()["reason"], "revoked");
    assert_eq!(app.count("presence_events").await, 4);
    let m = app.metrics().await;
    assert!(
        m.contains("kiemdich_scans_total{decision=\"admit\"} 2"),
        "{m}"
    );
}

async fn bad_scans_are_refused_and_store_nothing(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let other = app.location("market", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let ok = |key: &str| json!({"token": green, "direction": "in", "idempotency_key": key});
    // The pass with its last character changed (to one it does not already have).
    let altered = format!(
        "{}{}",
        &green[..green.len() - 1],
        if green.ends_with('A') { 'B' } else { 'A' }
    );
    let cases: Vec<(Value, u16)> = vec![
        (
            json!({"token": "KD1:NOTAPASS", "direction": "in", "idempotency_key": "a"}),
            422,
        ),
        (
            json!({"token": altered, "direction": "in", "idempotency_key": "b"}),
            422,
        ),
        (
            json!({"token": green, "direction": "sideways", "idempotency_key": "c"}),
            422,
        ),
        (
            json!({"token": green, "direction": "in", "idempotency_key": ""}),
            422,
        ),
        (
            json!({"token": green, "direction": "in", "idempotency_key": "d", "scanned_at": "yesterday"}),
            422,
        ),
        (
            json!({"token": green, "direction": "in", "idempotency_key": "e", "scanned_at": (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}),
            422,
        ),
        (
            json!({"token": green, "direction": "in", "idempotency_key": "f", "scanned_at": (chrono::Utc::now() - chrono::Duration::days(4)).to_rfc3339()}),
            422,
        ),
        (
            json!({"token": "x".repeat(2000), "direction": "in", "idempotency_key": "g"}),
            422,
        ),
    ];
    for (body, status) in cases {
        let res = scan(&app, &app.checkpoint, checkpoint, body.clone()).await;
        assert_eq!(res.status(), status, "{body}");
        let err: Value = res.json().await.unwrap();
        assert!(
            err["message"].is_string() && err["error"].is_string(),
            "{err}"
        );
    }
    assert_eq!(
        scan(&app, &app.officer, checkpoint, ok("h")).await.status(),
        403,
        "officers do not scan"
    );
    assert_eq!(
        scan(&app, &app.checkpoint, 999_999, ok("i")).await.status(),
        404
    );
    // A device bound to one location cannot scan at another.
    let device: Value = app.post_json("/api/v1/tokens", Some(&app.admin), &json!({"name": "máy quét chợ", "role": "checkpoint", "unit_code": COMMUNE, "location_id": other})).await;
    let device = device["token"].as_str().unwrap();
    assert_eq!(scan(&app, device, checkpoint, ok("j")).await.status(), 403);
    assert_eq!(scan(&app, device, other, ok("j")).await.status(), 201);
    assert_eq!(
        app.count("presence_events").await,
        1,
        "only the one good scan was stored"
    );
}

async fn concurrent_resends_of_one_scan_store_one_event(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let (app, green) = (app.clone(), green.clone());
            tokio::spawn(async move {
                let res = scan(
                    &app,
                    &app.checkpoint,
                    checkpoint,
                    json!({"token": green, "direction": "in", "idempotency_key": "same"}),
                )
                .await;
                (
                    res.status().as_u16(),
                    res.json::<Value>().await.unwrap()["event_id"]
                        .as_i64()
                        .unwrap(),
                )
            })
        })
        .collect();
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 201).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|(s, id)| (*s == 201 || *s == 200) && *id == results[0].1)
    );
    assert_eq!(app.count("presence_events").await, 1);
}

async fn presence_is_for_health_and_officers_in_jurisdiction_and_audited(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "in", "idempotency_key": "p1"}),
    )
    .await;
    let path = format!("/api/v1/locations/{checkpoint}/presence");
    let res = app.get(&path, Some(&app.health)).await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["events"][0]["citizen_id"], RESIDENTS[0].0);
    assert_eq!(
        app.get(&path, Some(&app.checkpoint)).await.status(),
        403,
        "scanner staff never list people"
    );
    let outsider = kiemdich_server::new_token();
    app.store
        .create_token(
            &kiemdich_server::token_hash(&outsider),
            "other commune",
            kiemdich_store::Role::Health,
            &kiemdich_domain::UnitCode::parse(OTHER_COMMUNE).unwrap(),
            None,
            None,
        )
        .await
        .unwrap();
    // Outside one's jurisdiction an existing place answers like a missing one.
    assert_eq!(app.get(&path, Some(&outsider)).await.status(), 404);
    let window = app
        .client
        .get(app.at(&path))
        .bearer_auth(&app.health)
        .query(&[
            ("from", "2020-01-01T00:00:00Z"),
            ("to", "2020-01-02T00:00:00Z"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(window.json::<Value>().await.unwrap()["events"], json!([]));
    let bad = app
        .client
        .get(app.at(&path))
        .bearer_auth(&app.health)
        .query(&[
            ("from", "2020-01-02T00:00:00Z"),
            ("to", "2020-01-01T00:00:00Z"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let audit = app
        .store
        .audit_entries(&format!("location:{checkpoint}"), 10)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "presence.read"));
}

async fn retention_purges_old_presence_only(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let old = (chrono::Utc::now() - chrono::Duration::hours(48)).to_rfc3339();
    scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "in", "scanned_at": old, "idempotency_key": "old"}),
    )
    .await;
    scan(
        &app,
        &app.checkpoint,
        checkpoint,
        json!({"token": green, "direction": "in", "idempotency_key": "new"}),
    )
    .await;
    let deleted = app
        .store
        .purge_presence(chrono::Utc::now().timestamp() - 24 * 3600)
        .await
        .unwrap();
    assert_eq!(deleted.events, 1);
    assert_eq!(app.count("presence_events").await, 1);
}

async fn officer_declaration_issues_a_pass_that_verifies_online_and_offline(app: TestApp) {
    let answer = app.declare(vec![person(0)]).await;
    let p = &answer["people"][0];
    assert_eq!(p["identity_check"], "matched");
    assert_eq!(p["mismatched_fields"], json!([]));
    let token = p["pass"]["token"].as_str().unwrap();
    assert!(token.starts_with("KD1:") && token.len() < 300, "{token}");
    let expires =
        chrono::DateTime::parse_from_rfc3339(p["pass"]["expires_at"].as_str().unwrap()).unwrap();
    let hours =
        (expires.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((71.9..=72.0).contains(&hours), "valid for {hours} h");

    let online = app.verify(token).await;
    assert_eq!(online["valid"], true, "{online}");
    assert_eq!(online["status"], "green");
    assert_eq!(online["holder"]["name"], "Nguyễn Văn An");
    assert_eq!(online["holder"]["birth_year"], 1990);
    assert_eq!(online["holder"]["masked_id"], "094******456");
    assert!(
        online.to_string().find("094090123456").is_none(),
        "the full id never leaves in a verification"
    );

    // A third party verifies with nothing but the published trust list and a COSE library.
    let list: Value = app.get_json("/api/v1/trust-list", None).await;
    third_party_verify(token, &list);
}

fn third_party_verify(token: &str, list: &Value) {
    use base64::Engine;
    use coset::{CborSerializable, TaggedCborSerializable};
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let bytes = kiemdich_pass::base45::decode(token.strip_prefix("KD1:").unwrap()).unwrap();
    let sign1 = coset::CoseSign1::from_tagged_slice(&bytes).unwrap();
    assert_eq!(
        sign1.protected.header.alg,
        Some(coset::Algorithm::Assigned(coset::iana::Algorithm::EdDSA))
    );
    let kid = b64.encode(&sign1.protected.header.key_id);
    let key = list["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid.as_str())
        .expect("kid in trust list");
    assert_eq!(key["alg"], "EdDSA");
    let raw: [u8; 32] = b64
        .decode(key["public_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&raw).unwrap();
    sign1
        .verify_signature(b"", |sig, data| {
            vk.verify_strict(data, &ed25519_dalek::Signature::from_slice(sig).unwrap())
        })
        .expect("signature verifies with the published key");
    let claims = coset::cwt::ClaimsSet::from_slice(sign1.payload.as_deref().unwrap()).unwrap();
    assert!(
        claims.issued_at.is_some()
            && claims.expiration_time.is_some()
            && claims.cwt_id.as_ref().is_some_and(|c| c.len() == 16)
    );
}

async fn identity_mismatch_and_unknown_people_get_no_pass(app: TestApp) {
    let mut wrong = person(0);
    wrong["full_name"] = json!("Nguyễn Văn Ân Hai");
    wrong["date_of_birth"] = json!("1990-05-18");
    let mut typed = person(1);
    typed["full_name"] = json!("TRAN THI  BE"); // folded case, diacritics and spacing still match
    let unknown = json!({"citizen_id": "094090999999", "full_name": "Phạm Văn Dũng", "date_of_birth": "1990-01-01", "sex": "M", "commune_code": COMMUNE});
    let answer = app.declare(vec![wrong, typed, unknown]).await;
    let people = answer["people"].as_array().unwrap();
    assert_eq!(people[0]["identity_check"], "mismatch");
    assert_eq!(
        people[0]["mismatched_fields"],
        json!(["full_name", "date_of_birth"])
    );
    assert_eq!(people[0]["pass"], Value::Null);
    assert_eq!(people[1]["identity_check"], "matched");
    assert!(people[1]["pass"]["token"].is_string());
    assert_eq!(people[2]["identity_check"], "not_found");
    assert_eq!(people[2]["pass"], Value::Null);
    // What was typed is stored exactly.
    let id = answer["declaration_id"].as_i64().unwrap();
    let stored: Value = app
        .get_json(&format!("/api/v1/declarations/{id}"), Some(&app.officer))
        .await;
    assert_eq!(stored["form"]["people"][1]["full_name"], "TRAN THI  BE");
    assert_eq!(stored["submitter"]["kind"], "officer");
    assert!(
        stored["submitter"]["actor"]
            .as_str()
            .unwrap()
            .starts_with("token:"),
        "{stored}"
    );
}

/// Staff of the registry commune see the entered and the registry details side by side; once they have checked
/// the identity document, the pass is issued on the registry's details, recorded as attested, and the person told.
async fn an_officer_settles_a_mismatch_on_the_identity_document(app: TestApp) {
    let mut wrong = person(0);
    wrong["full_name"] = json!("Nguyễn Văn Bình");
    let answer = app.declare(vec![wrong.clone()]).await;
    let p = &answer["people"][0];
    assert_eq!(p["pass"], Value::Null);
    assert_eq!(p["mismatched_fields"], json!(["full_name"]));
    assert_eq!(p["entered"]["full_name"], "Nguyễn Văn Bình");
    assert_eq!(p["registry"]["full_name"], RESIDENTS[0].1);
    assert_eq!(p["registry"]["date_of_birth"], RESIDENTS[0].2);
    wrong["identity_document_checked"] = json!(true);
    let answer = app.declare(vec![wrong]).await;
    let p = &answer["people"][0];
    assert_eq!(
        p["identity_check"], "mismatch",
        "the difference is still recorded"
    );
    let token = p["pass"]["token"]
        .as_str()
        .expect("a pass on the document check");
    assert_eq!(p["full_name"], RESIDENTS[0].1);
    let verified = app.verify(token).await;
    assert_eq!(
        verified["holder"]["name"], RESIDENTS[0].1,
        "the registry's details"
    );
    let id = answer["declaration_id"].as_i64().unwrap();
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    let attested: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT attested FROM declaration_people WHERE declaration_id = {id}"
    )))
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(attested, 1);
    let told = app.store.notices_for(RESIDENTS[0].0, 10).await.unwrap();
    assert!(
        told.iter()
            .any(|n| n.body.contains("đã khai báo y tế thay bạn")),
        "{told:?}"
    );
}

async fn a_new_declaration_supersedes_the_previous_pass(app: TestApp) {
    let first = app.declare(vec![person(0)]).await;
    let old = first["people"][0]["pass"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let old_id = first["people"][0]["pass"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut sick = person(0);
    sick["symptoms"] = json!(["fever", "cough"]);
    let second = app.declare(vec![sick]).await;
    let new = second["people"][0]["pass"]["token"].as_str().unwrap();
    let v = app.verify(&old).await;
    assert_eq!(
        (v["valid"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("superseded"))
    );
    let v = app.verify(new).await;
    assert_eq!(v["valid"], true);
    assert_eq!(v["status"], "yellow", "symptoms make a person yellow");
    let delta: Value = app.get_json("/api/v1/revocations?since=0", None).await;
    assert_eq!(delta["pass_ids"], json!([old_id]));
    let cursor = delta["cursor"].as_i64().unwrap();
    let empty: Value = app
        .get_json(&format!("/api/v1/revocations?since={cursor}"), None)
        .await;
    assert_eq!(empty["pass_ids"], json!([]));
}

/// A declaration whose answer was lost is sent again with the same key, at once and later: one declaration and
/// one pass are stored, every sending gets the first answer; the key used for another form is a 409.
async fn a_declaration_sent_again_with_its_key_is_answered_not_stored_twice(app: TestApp) {
    let body = json!({"people": [person(0)], "consent": true, "idempotency_key": "tablet-7:42"});
    let app = std::sync::Arc::new(app);
    let sends: Vec<_> = (0..4)
        .map(|_| {
            let (app, body) = (app.clone(), body.clone());
            tokio::spawn(async move {
                let res = app
                    .post("/api/v1/declarations", Some(&app.officer), &body)
                    .await;
                (res.status().as_u16(), res.json::<Value>().await.unwrap())
            })
        })
        .collect();
    let mut answers = Vec::new();
    for send in sends {
        answers.push(send.await.unwrap());
    }
    let later = app
        .post("/api/v1/declarations", Some(&app.officer), &body)
        .await;
    answers.push((later.status().as_u16(), later.json().await.unwrap()));
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 201)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for (status, answer) in &answers {
        assert!(*status == 201 || *status == 200, "{status}");
        assert_eq!(answer, created[0], "every sending gets the first answer");
    }
    assert_eq!(app.count("declarations").await, 1);
    assert_eq!(app.count("passes").await, 1);
    let token = created[0]["people"][0]["pass"]["token"].as_str().unwrap();
    assert_eq!(app.verify(token).await["valid"], true);

    let mut other = body.clone();
    other["people"][0]["symptoms"] = json!(["fever"]);
    let res = app
        .post("/api/v1/declarations", Some(&app.officer), &other)
        .await;
    assert_eq!(res.status(), 409);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "idempotency_conflict", "{err}");
    assert_eq!(app.count("declarations").await, 1);
}

/// Concurrent declarations share group commits; whichever groups they land in, the last pass stored is the
/// only live one and every other is on the revocation list.
async fn concurrent_declarations_for_one_person_leave_exactly_one_live_pass(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let app = app.clone();
            tokio::spawn(async move {
                let people = if i % 2 == 0 {
                    vec![person(0)]
                } else {
                    vec![person(1), person(0)]
                };
                app.declare(people).await
            })
        })
        .collect();
    let mut tokens = Vec::new();
    for t in tasks {
        let answer = t.await.unwrap();
        let mine = answer["people"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["citizen_id"] == RESIDENTS[0].0)
            .unwrap()
            .clone();
        tokens.push(mine["pass"]["token"].as_str().unwrap().to_owned());
    }
    let mut valid = 0;
    for t in &tokens {
        let v = app.verify(t).await;
        if v["valid"] == true {
            valid += 1;
        } else {
            assert_eq!(v["reason"], "superseded");
        }
    }
    assert_eq!(valid, 1, "exactly one live pass");
    let delta: Value = app.get_json("/api/v1/revocations", None).await;
    assert_eq!(
        delta["pass_ids"].as_array().unwrap().len(),
        23 + 11,
        "23 of person 0 and 11 of person 1"
    );
    assert_eq!(app.count("declarations").await, 24);
    assert_eq!(app.count("declaration_people").await, 36);
}

async fn officers_cannot_declare_outside_their_jurisdiction(app: TestApp) {
    let before = app.count("declarations").await;
    let res = app
        .post(
            "/api/v1/declarations",
            Some(&app.commune_officer),
            &json!({"people": [person(0), person(3)], "consent": true}),
        )
        .await;
    assert_eq!(res.status(), 403);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "forbidden");
    assert!(body["detail"].as_str().unwrap().contains(OTHER_COMMUNE));
    assert_eq!(app.count("declarations").await, before, "nothing written");
    assert_eq!(app.count("passes").await, 0);
    let ok = app
        .post(
            "/api/v1/declarations",
            Some(&app.commune_officer),
            &json!({"people": [person(0)], "consent": true}),
        )
        .await;
    assert_eq!(ok.status(), 201);
    let res = app
        .post(
            "/api/v1/declarations",
            Some(&app.checkpoint),
            &json!({"people": [person(0)], "consent": true}),
        )
        .await;
    assert_eq!(res.status(), 403, "checkpoint staff do not declare");
}

async fn malformed_requests_are_refused_with_field_errors_and_write_nothing(app: TestApp) {
    let cases: Vec<(Value, &str)> = vec![
        (json!({"people": [person(0)], "consent": false}), "consent"),
        (json!({"people": [], "consent": true}), "people"),
        (
            json!({"people": [{"citizen_id": "09409012345", "full_name": "A", "date_of_birth": "1990-05-17", "sex": "M", "commune_code": COMMUNE}], "consent": true}),
            "people[0].citizen_id",
        ),
        (
            json!({"people": [{"citizen_id": "094090123456", "full_name": "A", "date_of_birth": "1990-05-17", "sex": "F", "commune_code": COMMUNE}], "consent": true}),
            "people[0].citizen_id",
        ),
        (
            json!({"people": [{"citizen_id": "094090123456", "full_name": "A", "date_of_birth": "2090-05-17", "sex": "M", "commune_code": COMMUNE}], "consent": true}),
            "people[0].date_of_birth",
        ),
        (
            json!({"people": [{"citizen_id": "094090123456", "full_name": "A1", "date_of_birth": "1990-05-17", "sex": "M", "commune_code": COMMUNE}], "consent": true}),
            "people[0].full_name",
        ),
        (
            json!({"people": [{"citizen_id": "094090123456", "full_name": "A", "date_of_birth": "1990-05-17", "sex": "M", "commune_code": "99999"}], "consent": true}),
            "people[0].commune_code",
        ),
        (
            json!({"people": [person(0), person(0)], "consent": true}),
            "people[1].citizen_id",
        ),
        (
            json!({"people": [{"citizen_id": "094090123456", "full_name": "A", "date_of_birth": "1990-05-17", "sex": "M", "commune_code": COMMUNE, "symptoms": ["sneezing"]}], "consent": true}),
            "people[0].symptoms[0]",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .post("/api/v1/declarations", Some(&app.officer), &body)
            .await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"], "invalid");
        assert!(
            err["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{field} in {err}"
        );
    }
    let raw = app
        .client
        .post(app.at("/api/v1/declarations"))
        .bearer_auth(&app.officer)
        .header("content-type", "application/json")
        .body("{\"people\": [")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 422);
    let err: Value = raw.json().await.unwrap();
    assert_eq!(err["error"], "invalid_body");
    let huge = json!({"people": [person(0)], "consent": true, "pad": "x".repeat(70_000)});
    // The server answers 413 without reading the rest and closes the connection: `Connection: close` keeps the
    // client from pooling it, or the next request could be sent on the closing socket.
    let res = app
        .client
        .post(app.at("/api/v1/declarations"))
        .bearer_auth(&app.officer)
        .header("connection", "close")
        .json(&huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let res = app
        .post(
            "/api/v1/declarations",
            None,
            &json!({"people": [person(0)], "consent": true}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let res = app
        .post(
            "/api/v1/declarations",
            Some("kd_not_a_token"),
            &json!({"people": [person(0)], "consent": true}),
        )
        .await;
    assert_eq!(res.status(), 401);
    let long = app.verify(&format!("KD1:{}", "A".repeat(5000))).await;
    assert_eq!(long["reason"], "too_long");
    assert_eq!(app.count("declarations").await, 0);
    assert_eq!(app.count("passes").await, 0);
}

async fn self_declaration_with_a_one_time_code_covers_the_family(app: TestApp) {
    let res = app
        .post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[1].0}))
        .await;
    assert_eq!(res.status(), 202);
    let challenge: Value = res.json().await.unwrap();
    assert_eq!(
        challenge["message"],
        "Nếu số CCCD này đã đăng ký số điện thoại, mã xác nhận đã được gửi đến số đó.",
        "Vietnamese unless the caller asks otherwise"
    );
    assert!(challenge.get("sent_to").is_none(), "no hint of the phone");
    let code = app.sent_code(RESIDENTS[1].5).await;
    let body = json!({"people": [person(1), person(2)], "consent": true, "otp": {"challenge_id": challenge["challenge_id"], "code": code}});
    let res = app.post("/api/v1/declarations", None, &body).await;
    assert_eq!(res.status(), 201);
    let answer: Value = res.json().await.unwrap();
    assert!(
        answer["people"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["pass"]["token"].is_string()),
        "{answer}"
    );
    let id = answer["declaration_id"].as_i64().unwrap();
    let stored: Value = app
        .get_json(&format!("/api/v1/declarations/{id}"), Some(&app.officer))
        .await;
    assert_eq!(
        stored["submitter"],
        json!({"kind": "self_declared", "citizen_id": RESIDENTS[1].0})
    );
    assert!(
        stored["form"].get("otp").is_none(),
        "the code is not stored with the form"
    );
    // Someone with no phone in the registry, and an id nobody has, get the same answer as a registered
    // phone: the answer tells no one who is registered.
    for id in [RESIDENTS[2].0, "094090999999"] {
        let res = app
            .post("/api/v1/otp", None, &json!({"citizen_id": id}))
            .await;
        assert_eq!(res.status(), 202);
        let answer: Value = res.json().await.unwrap();
        let keys: Vec<&String> = answer.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["challenge_id", "expires_at", "message"], "{answer}");
    }
    assert_eq!(
        app.count("outbox").await,
        1,
        "the one code went to resident 1's phone; nothing was sent for the others"
    );
}

async fn one_time_codes_lock_expire_and_are_single_use(app: TestApp) {
    let challenge: Value = app
        .post_json("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
        .await;
    let id = challenge["challenge_id"].clone();
    let code = app.sent_code(RESIDENTS[0].5).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let attempt = |c: &str| json!({"people": [person(0)], "consent": true, "otp": {"challenge_id": id, "code": c}});
    // The code was sent to resident 0; a declaration for someone else alone is refused. Every evaluation
    // of a code counts against the challenge, this right one too.
    let res = app.post("/api/v1/declarations", None, &json!({"people": [person(1)], "consent": true, "otp": {"challenge_id": id, "code": code}})).await;
    assert_eq!(res.status(), 422);
    for left in (0..4).rev() {
        let res = app
            .post("/api/v1/declarations", None, &attempt(wrong))
            .await;
        assert_eq!(res.status(), 422);
        let err: Value = res.json().await.unwrap();
        assert!(
            err["message"]
                .as_str()
                .unwrap()
                .contains(&format!("còn {left} lần thử")),
            "{err}"
        );
        assert_eq!(err["fields"][0]["code"], "wrong_code", "{err}");
        assert_eq!(
            err["fields"][0]["message"], "Mã xác nhận không đúng.",
            "{err}"
        );
    }
    let res = app
        .post("/api/v1/declarations", None, &attempt(&code))
        .await;
    let err: Value = res.json().await.unwrap();
    assert!(
        err["detail"].as_str().unwrap().contains("locked")
            && err["message"] == "Đã nhập sai quá nhiều lần; hãy xin mã mới.",
        "the right code no longer works after 5 attempts: {err}"
    );

    let fresh: Value = app
        .post_json("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
        .await;
    let code = app.sent_code(RESIDENTS[0].5).await;
    let body = json!({"people": [person(0)], "consent": true, "otp": {"challenge_id": fresh["challenge_id"], "code": code}});
    assert_eq!(
        app.post("/api/v1/declarations", None, &body).await.status(),
        201
    );
    let again = app.post("/api/v1/declarations", None, &body).await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("already used"));
    // Sends are rate limited per person (5 an hour by the shipped rules).
    let mut statuses = Vec::new();
    for _ in 0..4 {
        statuses.push(
            app.post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
                .await
                .status()
                .as_u16(),
        );
    }
    assert_eq!(statuses, [202, 202, 202, 429]);
}

async fn expired_codes_are_refused(app: TestApp) {
    let (challenge, _) = app
        .store
        .create_otp(RESIDENTS[0].0, "unused-hash", -1, 5, None)
        .await
        .unwrap();
    let body = json!({"people": [person(0)], "consent": true, "otp": {"challenge_id": challenge, "code": "123456"}});
    let res = app.post("/api/v1/declarations", None, &body).await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("expired"));
    assert_eq!(app.count("declarations").await, 0);
}

/// Records what it was asked to send.
struct Recorder(std::sync::Mutex<Vec<String>>);

impl kiemdich_server::notify::Sender for Recorder {
    fn send(&self, m: &kiemdich_store::OutboxMessage) -> Result<(), String> {
        self.0.lock().unwrap().push(m.recipient.clone());
        Ok(())
    }
}

async fn queued_messages_are_delivered_once_by_competing_dispatchers(app: TestApp) {
    use kiemdich_server::notify::dispatch;
    let recorder = std::sync::Arc::new(Recorder(Default::default()));
    for (id, phone) in [
        (RESIDENTS[0].0, RESIDENTS[0].5),
        (RESIDENTS[1].0, RESIDENTS[1].5),
    ] {
        let res = app
            .post("/api/v1/otp", None, &json!({"citizen_id": id}))
            .await;
        assert_eq!(res.status(), 202, "{phone}");
    }
    // The test server runs its own (logging) dispatcher; two recording ones compete with it for the messages.
    let (a, b) = (
        tokio::spawn(dispatch(app.store.clone(), recorder.clone())),
        tokio::spawn(dispatch(app.store.clone(), recorder.clone())),
    );
    for _ in 0..50 {
        if app.store.unsent_outbox(10).await.unwrap().is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    a.abort();
    b.abort();
    assert!(
        app.store.unsent_outbox(10).await.unwrap().is_empty(),
        "every message was claimed"
    );
    let sent = recorder.0.lock().unwrap().clone();
    let mut unique = sent.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(sent.len(), unique.len(), "no message sent twice: {sent:?}");
    assert_eq!(
        app.store
            .outbox(&[COMMUNE.to_string()], 10)
            .await
            .unwrap()
            .len(),
        2,
        "the outbox keeps both for administrators"
    );
}

async fn qr_images_hold_exactly_the_token(app: TestApp) {
    let answer = app.declare(vec![person(0)]).await;
    let pass = &answer["people"][0]["pass"];
    let (id, token) = (
        pass["id"].as_str().unwrap(),
        pass["token"].as_str().unwrap(),
    );
    let res = app.get(&format!("/api/v1/passes/{id}/qr.png"), None).await;
    assert_eq!(res.headers()["content-type"], "image/png");
    let (content, _) = common::read_qr_png(&res.bytes().await.unwrap());
    assert_eq!(content, token);
    let svg = app
        .get(&format!("/api/v1/passes/{id}/qr.svg"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        svg.starts_with("<?xml") && svg.contains("<svg"),
        "{:.80}",
        svg
    );
    let card = app
        .get(&format!("/passes/{id}/card"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("Nguyễn Văn An")
            && card.contains("094******456")
            && card.contains("<svg")
            && !card.contains("094090123456")
    );
    assert_eq!(
        app.get(
            "/api/v1/passes/00000000000000000000000000000000/qr.png",
            None
        )
        .await
        .status(),
        404
    );
}

async fn altered_and_foreign_tokens_are_refused_with_reasons(app: TestApp) {
    let answer = app.declare(vec![person(0)]).await;
    let token = answer["people"][0]["pass"]["token"].as_str().unwrap();
    let mut bytes = kiemdich_pass::base45::decode(&token[4..]).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01; // inside the signature
    let altered = format!("KD1:{}", kiemdich_pass::base45::encode(&bytes));
    assert_eq!(app.verify(&altered).await["reason"], "bad_signature");
    // Base45 groups are 3 characters (2 at the end): a body of length 3k+1 cannot be Base45. Space is a
    // Base45 digit and the server trims pasted tokens, so the cut must not end in one.
    let mut cut = 4 + (token.len() - 4) / 3 * 3 - 2;
    while token[..cut].ends_with(' ') {
        cut -= 3;
    }
    assert_eq!(app.verify(&token[..cut]).await["reason"], "bad_base45");
    assert_eq!(
        app.verify(&token.replace("KD1:", "KD9:")).await["reason"],
        "unknown_prefix"
    );
    // Signed by a key this server never published.
    let stranger = kiemdich_pass::SigningKey::generate();
    let now = chrono::Utc::now();
    let claims = kiemdich_pass::PassClaims {
        issuer: "VN-94".into(),
        pass_id: kiemdich_pass::PassId::random(),
        issued_at: now,
        expires_at: now + chrono::Duration::hours(72),
        holder: kiemdich_pass::Holder {
            name: "Kẻ Giả".into(),
            birth_year: 1990,
            masked_id: "094******456".into(),
            status: kiemdich_domain::HealthStatus::Green,
            commune: COMMUNE.into(),
            vaccination: kiemdich_domain::VaccinationSummary::NONE,
        },
    };
    assert_eq!(
        app.verify(&kiemdich_pass::encode(&claims, &stranger)).await["reason"],
        "unknown_key"
    );
    // A retired key: its passes stop verifying once the servers refresh.
    let kid = app.store.signing_keys().await.unwrap()[0].kid.clone();
    app.store.end_key(&kid, now.timestamp() - 1).await.unwrap();
    app.state.refresh().await.unwrap();
    assert_eq!(app.verify(token).await["reason"], "key_retired");
}

async fn revocation_stops_a_pass_at_once_and_reaches_the_delta(app: TestApp) {
    let answer = app.declare(vec![person(0)]).await;
    let pass = &answer["people"][0]["pass"];
    let (id, token) = (
        pass["id"].as_str().unwrap(),
        pass["token"].as_str().unwrap(),
    );
    let res = app
        .post(
            &format!("/api/v1/passes/{id}/revoke"),
            Some(&app.checkpoint),
            &json!({"reason": "F1"}),
        )
        .await;
    assert_eq!(res.status(), 403, "checkpoint staff cannot revoke");
    let res = app
        .post(
            &format!("/api/v1/passes/{id}/revoke"),
            Some(&app.health),
            &json!({"reason": ""}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post(
            &format!("/api/v1/passes/{id}/revoke"),
            Some(&app.health),
            &json!({"reason": "F1 contact"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let v = app.verify(token).await;
    assert_eq!(
        (v["valid"].as_bool(), v["reason"].as_str()),
        (Some(false), Some("revoked"))
    );
    let delta: Value = app.get_json("/api/v1/revocations", None).await;
    assert_eq!(delta["pass_ids"], json!([id]));
}

async fn registry_reads_are_audited_and_bounded_by_jurisdiction(app: TestApp) {
    let id = RESIDENTS[0].0;
    let res = app
        .get(
            &format!("/api/v1/residents/{id}"),
            Some(&app.commune_officer),
        )
        .await;
    assert_eq!(res.status(), 200);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["full_name"], "Nguyễn Văn An");
    let audit = app
        .store
        .audit_entries(&format!("citizen:{id}"), 10)
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "resident.read" && a.actor.starts_with("token:")),
        "{audit:?}"
    );
    let log: Value = app
        .get_json(
            &format!("/api/v1/audit?subject=citizen:{id}"),
            Some(&app.admin),
        )
        .await;
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "resident.read"),
        "{log}"
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/audit?subject=citizen:{id}"),
            Some(&app.officer)
        )
        .await
        .status(),
        403
    );
    let other = RESIDENTS[3].0;
    assert_eq!(
        app.get(
            &format!("/api/v1/residents/{other}"),
            Some(&app.commune_officer)
        )
        .await
        .status(),
        404,
        "a resident of another commune answers like an unknown id"
    );
    assert_eq!(
        app.get(&format!("/api/v1/residents/{other}"), Some(&app.checkpoint))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(&format!("/api/v1/residents/{other}"), None)
            .await
            .status(),
        401
    );
    let found: Value = app
        .get_json("/api/v1/residents?q=nguyen van", Some(&app.commune_officer))
        .await;
    assert_eq!(found["residents"].as_array().unwrap().len(), 1);
    let none: Value = app
        .get_json("/api/v1/residents?q=thach", Some(&app.commune_officer))
        .await;
    assert_eq!(
        none["residents"],
        json!([]),
        "a resident of another commune stays invisible"
    );
    let found: Value = app
        .get_json("/api/v1/residents?q=thach", Some(&app.officer))
        .await;
    assert_eq!(found["residents"].as_array().unwrap().len(), 1);
    let unit: Value = app
        .get_json(&format!("/api/v1/units/{COMMUNE}"), None)
        .await;
    assert_eq!(
        unit["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["code"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["941", "94"]
    );
}

async fn staff_login_and_admin_endpoints(app: TestApp) {
    let res = app
        .post(
            "/api/v1/staff",
            Some(&app.officer),
            &json!({"username": "x", "password": "y", "role": "officer", "unit_code": COMMUNE}),
        )
        .await;
    assert_eq!(res.status(), 403, "only admins create accounts");
    let res = app.post("/api/v1/staff", Some(&app.admin), &json!({"username": "canbo.p5", "password": "short", "role": "officer", "unit_code": COMMUNE})).await;
    assert_eq!(res.status(), 422);
    let res = app.post("/api/v1/staff", Some(&app.admin), &json!({"username": "canbo.p5", "password": "mat-khau-dai-du", "role": "officer", "unit_code": COMMUNE})).await;
    assert_eq!(res.status(), 201);
    let dup = app.post("/api/v1/staff", Some(&app.admin), &json!({"username": "canbo.p5", "password": "mat-khau-dai-du", "role": "officer", "unit_code": COMMUNE})).await;
    assert_eq!(dup.status(), 409);
    let bad = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": "canbo.p5", "password": "wrong-password"}),
        )
        .await;
    assert_eq!(bad.status(), 401);
    let login: Value = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": "canbo.p5", "password": "mat-khau-dai-du"}),
        )
        .await;
    let session = login["token"].as_str().unwrap();
    assert_eq!(
        app.get(
            &format!("/api/v1/residents/{}", RESIDENTS[0].0),
            Some(session)
        )
        .await
        .status(),
        200
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/residents/{}", RESIDENTS[3].0),
            Some(session)
        )
        .await
        .status(),
        404
    );
    let device: Value = app
        .post_json(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "chốt QL1A", "role": "checkpoint", "unit_code": "942"}),
        )
        .await;
    assert!(device["token"].as_str().unwrap().starts_with("kd_"));
}

async fn operations_endpoints(app: TestApp) {
    let h: Value = app.get_json("/healthz", None).await;
    assert_eq!(h["status"], "ok");
    let r = app.get("/readyz", None).await;
    assert_eq!(r.status(), 200);
    app.declare(vec![person(0)]).await;
    let m = app.metrics().await;
    assert!(m.contains("kiemdich_passes_issued_total 1"), "{m}");
}

async fn checkpoint_scans_report_declared_journeys_to_both_communes(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let market = app.location("market", COMMUNE).await;
    let mut traveller = person(0);
    traveller["travel"] = json!({"mode": "coach", "vehicle_number": "83B-012.34", "departure_unit": OTHER_COMMUNE, "departure_date": "2021-08-01", "destination_unit": COMMUNE});
    let token = app.declare(vec![traveller]).await["people"][0]["pass"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    for (place, key) in [(checkpoint, "m1"), (market, "m2")] {
        let res = scan(
            &app,
            &app.checkpoint,
            place,
            json!({"token": token, "direction": "in", "idempotency_key": key}),
        )
        .await;
        assert_eq!(res.status(), 201);
    }
    let here: Value = app
        .get_json(
            &format!("/api/v1/movements?unit={COMMUNE}"),
            Some(&app.commune_officer),
        )
        .await;
    assert_eq!(
        here["arrivals"].as_array().unwrap().len(),
        1,
        "only the checkpoint scan reports: {here}"
    );
    assert_eq!(here["arrivals"][0]["citizen_id"], RESIDENTS[0].0);
    assert_eq!(here["arrivals"][0]["from_unit"], OTHER_COMMUNE);
    assert_eq!(here["departures"], json!([]));
    // The commune left hears of it too, also when asked at district level.
    let there: Value = app
        .get_json("/api/v1/movements?unit=942", Some(&app.officer))
        .await;
    assert_eq!(there["departures"].as_array().unwrap().len(), 1, "{there}");
    assert_eq!(
        app.get(
            &format!("/api/v1/movements?unit={OTHER_COMMUNE}"),
            Some(&app.commune_officer)
        )
        .await
        .status(),
        403
    );
    assert_eq!(
        app.get("/api/v1/movements", Some(&app.checkpoint))
            .await
            .status(),
        403
    );
    let audit = app
        .store
        .audit_entries(&format!("unit:{COMMUNE}"), 5)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "movement.read"));
}

/// Field problems carry a code; messages follow the language cookie, then `Accept-Language`, then Vietnamese.
async fn errors_are_in_the_callers_language_with_a_code_per_field(app: TestApp) {
    let send = |lang: Option<(&'static str, &'static str)>| {
        let mut req = app
            .client
            .post(format!("{}/api/v1/otp", app.url))
            .json(&json!({"citizen_id": "12345"}));
        if let Some((name, value)) = lang {
            req = req.header(name, value);
        }
        async move { req.send().await.unwrap().json::<Value>().await.unwrap() }
    };
    let vi = send(None).await;
    assert_eq!(vi["error"], "invalid");
    assert_eq!(
        vi["message"],
        "Một số thông tin chưa đúng; xem ghi chú ở từng ô."
    );
    assert_eq!(vi["fields"][0]["field"], "citizen_id");
    assert_eq!(vi["fields"][0]["code"], "citizen_id_shape");
    assert_eq!(vi["fields"][0]["message"], "Số CCCD gồm đúng 12 chữ số.");
    let en = send(Some(("accept-language", "en-GB,en;q=0.9"))).await;
    assert_eq!(
        en["fields"][0]["message"],
        "A citizen id is exactly 12 digits."
    );
    assert_eq!(
        en["fields"][0]["code"], "citizen_id_shape",
        "codes do not change with the language"
    );
    let km = send(Some(("accept-language", "km"))).await;
    assert_eq!(km["fields"][0]["message"], "លេខអត្តសញ្ញាណមាន ១២ ខ្ទង់។");
    // The visitor's choice on the site wins over the browser's languages.
    let chosen = send(Some(("cookie", "kd_lang=vi"))).await;
    assert_eq!(
        chosen["fields"][0]["message"],
        "Số CCCD gồm đúng 12 chữ số."
    );
    let unknown = send(Some(("accept-language", "de, fr;q=0.5"))).await;
    assert_eq!(
        unknown["message"], vi["message"],
        "a language we lack falls back to Vietnamese"
    );
}
