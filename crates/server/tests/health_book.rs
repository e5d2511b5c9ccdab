//! Daily health updates and the electronic health book, on both backends: the resident's and the officer's
//! updates, bad readings, urgent updates telling the health station and topping the follow-up list and the
//! overview, an update satisfying the day's follow-up of a person in isolation, symptoms from a green person
//! revoking their pass (refused at the next scan), the book's content and why its colour, its jurisdiction
//! and audit, and the book as a FHIR document Bundle checked by the independent validator.

#![expect(clippy::unwrap_used, reason = "tests")]

#[macro_use]
mod common;

use common::{COMMUNE, RESIDENTS, STATION_PHONE, TestApp, error_fields};
use kiemdich_store::Role;
use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

on_both_backends!(
    residents_and_officers_post_updates_and_bad_readings_are_refused,
    an_urgent_update_tells_the_station_and_tops_the_lists,
    an_update_satisfies_the_days_follow_up_of_a_person_in_isolation,
    symptoms_from_a_green_person_revoke_their_pass_at_once,
    the_health_book_shows_the_colour_and_its_reasons_inside_jurisdiction,
    the_health_book_exports_as_a_valid_fhir_document,
    the_book_prints_on_a4_in_vietnamese_with_names_and_local_times,
);

async fn session_of(app: &TestApp, i: usize) -> String {
    let (res, _) = app.resident_sign_in(i).await;
    res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn updates_of(i: usize) -> String {
    format!("/api/v1/residents/{}/health-updates", RESIDENTS[i].0)
}

async fn residents_and_officers_post_updates_and_bad_readings_are_refused(app: TestApp) {
    let me = session_of(&app, 0).await;
    let res = app
        .post(
            "/api/v1/me/health-updates",
            Some(&me),
            &json!({"temperature_c": 37.2, "spo2": 98, "symptoms": [], "note": "khỏe"}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let posted: Value = res.json().await.unwrap();
    assert!(posted["id"].as_i64().is_some());
    assert_eq!(posted["urgent"], false);

    // SpO2 101, 60 °C and an unknown symptom: every problem named, nothing written.
    let before = app.count("health_updates").await;
    let res = app
        .post(
            "/api/v1/me/health-updates",
            Some(&me),
            &json!({"temperature_c": 60, "spo2": 101, "symptoms": ["sneezing"]}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(error_fields(&err), ["temperature_c", "spo2", "symptoms[0]"]);
    assert_eq!(app.count("health_updates").await, before);

    // An officer enters one for Cúc, who has no phone; staff cannot use the resident's route.
    let res = app
        .post(
            &updates_of(2),
            Some(&app.commune_officer),
            &json!({"temperature_c": 36.8, "symptoms": []}),
        )
        .await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        app.post(
            "/api/v1/me/health-updates",
            Some(&app.officer),
            &json!({"symptoms": []})
        )
        .await
        .status(),
        403
    );
    // Another commune's officer does not reach Cúc: 404 as other reads of people; a checkpoint may not enter.
    let other = app.token(Role::Officer, common::OTHER_COMMUNE).await;
    assert_eq!(
        app.post(&updates_of(2), Some(&other), &json!({"symptoms": []}))
            .await
            .status(),
        404
    );
    assert_eq!(
        app.post(
            &updates_of(2),
            Some(&app.checkpoint),
            &json!({"symptoms": []})
        )
        .await
        .status(),
        403
    );
    let rows: i64 = app
        .count("audit_log WHERE action = 'health_update.create'")
        .await;
    assert_eq!(rows, 2);
}

async fn an_urgent_update_tells_the_station_and_tops_the_lists(app: TestApp) {
    // Two people in isolation in the commune: An (case first) and Bé.
    let first = app.confirmed_case(0, 1).await;
    let second = app.confirmed_case(1, 1).await;
    let list: Value = app.get_json("/api/v1/follow-ups", Some(&app.health)).await;
    assert_eq!(list["follow_ups"][0]["case_id"], first);

    let be = session_of(&app, 1).await;
    let posted = app
        .post_json(
            "/api/v1/me/health-updates",
            Some(&be),
            &json!({"spo2": 92, "symptoms": ["chest_pain"]}),
        )
        .await;
    assert_eq!(posted["urgent"], true);

    // The station's phone gets an SMS at once, in Vietnamese, naming the person and the signs.
    let to_station = app
        .count(&format!(
            "outbox WHERE recipient = '{STATION_PHONE}' AND channel = 'sms' AND body LIKE '%SpO2 92%%'"
        ))
        .await;
    assert_eq!(to_station, 1);
    let commune_notice = app
        .count(&format!(
            "outbox WHERE recipient = '{COMMUNE}' AND channel = 'commune' AND body LIKE 'KHẨN%'"
        ))
        .await;
    assert_eq!(commune_notice, 1);

    // Bé comes first on the follow-up list, flagged, and tops the overview.
    let list: Value = app.get_json("/api/v1/follow-ups", Some(&app.health)).await;
    assert_eq!(list["follow_ups"][0]["case_id"], second);
    assert_eq!(list["follow_ups"][0]["urgent"], true);
    assert_eq!(list["follow_ups"][1]["urgent"], false);
    let overview: Value = app.get_json("/api/v1/overview", Some(&app.health)).await;
    assert_eq!(
        overview["urgent"][0]["person"]["citizen_id"],
        RESIDENTS[1].0
    );
    assert_eq!(overview["urgent"][0]["spo2"], 92);

    // A reading at the threshold is not urgent, and tells no one.
    let an = session_of(&app, 0).await;
    let posted = app
        .post_json(
            "/api/v1/me/health-updates",
            Some(&an),
            &json!({"spo2": 94, "symptoms": ["cough"]}),
        )
        .await;
    assert_eq!(posted["urgent"], false);
    assert_eq!(
        app.count(&format!("outbox WHERE recipient = '{STATION_PHONE}'"))
            .await,
        1
    );
}

async fn an_update_satisfies_the_days_follow_up_of_a_person_in_isolation(app: TestApp) {
    let case = app.confirmed_case(0, 2).await;
    let due: Value = app.get_json("/api/v1/follow-ups", Some(&app.health)).await;
    assert!(due["follow_ups"][0]["outcome"].is_null());
    let an = session_of(&app, 0).await;
    let res = app
        .post(
            "/api/v1/me/health-updates",
            Some(&an),
            &json!({"temperature_c": 37.0, "spo2": 97, "symptoms": []}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let done: Value = app.get_json("/api/v1/follow-ups", Some(&app.health)).await;
    let line = &done["follow_ups"][0];
    assert_eq!(line["case_id"], case);
    assert_eq!(line["outcome"], "well");
    assert_eq!(line["channel"], "self_report");
    // A second update the same day keeps the first record; staff may still correct it.
    app.post(
        "/api/v1/me/health-updates",
        Some(&an),
        &json!({"symptoms": ["cough"]}),
    )
    .await;
    let again: Value = app.get_json("/api/v1/follow-ups", Some(&app.health)).await;
    assert_eq!(again["follow_ups"][0]["outcome"], "well");
    assert_eq!(app.count("follow_ups").await, 1);
}

async fn symptoms_from_a_green_person_revoke_their_pass_at_once(app: TestApp) {
    let token = app.pass_of(0, false).await;
    assert_eq!(app.verify(&token).await["status"], "green");
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let scan = |key: &'static str| {
        let token = token.clone();
        let app = &app;
        async move {
            app.post_json(
                &format!("/api/v1/locations/{checkpoint}/scans"),
                Some(&app.checkpoint),
                &json!({"token": token, "direction": "in", "idempotency_key": key}),
            )
            .await
        }
    };
    assert_eq!(scan("before").await["decision"], "admit");

    let an = session_of(&app, 0).await;
    let posted = app
        .post_json(
            "/api/v1/me/health-updates",
            Some(&an),
            &json!({"temperature_c": 38.4, "symptoms": ["fever", "cough"]}),
        )
        .await;
    assert_eq!(posted["urgent"], false);
    // The old pass is refused at the next scan and listed for offline scanners.
    assert_eq!(scan("after").await["decision"], "refuse");
    let revoked = app
        .count("revocations WHERE reason = 'health_update:symptoms'")
        .await;
    assert_eq!(revoked, 1);
    // The book says yellow, because of the reported symptoms, dated today.
    let book: Value = app.get_json("/api/v1/me/health-book", Some(&an)).await;
    assert_eq!(book["status"]["colour"], "yellow");
    let reason = &book["status"]["reasons"][0];
    assert_eq!(reason["kind"], "reported_symptom");
    assert!(
        reason["detail"].as_str().unwrap().contains("Sốt"),
        "{reason}"
    );
    // A person already not green loses nothing more: a second update revokes nothing.
    app.post_json(
        "/api/v1/me/health-updates",
        Some(&an),
        &json!({"symptoms": ["cough"]}),
    )
    .await;
    assert_eq!(
        app.count("revocations WHERE reason = 'health_update:symptoms'")
            .await,
        1
    );
}

async fn the_health_book_shows_the_colour_and_its_reasons_inside_jurisdiction(app: TestApp) {
    app.pass_of(0, true).await;
    app.dose(0, "2021-08-10").await;
    let an = session_of(&app, 0).await;
    app.post_json(
        "/api/v1/me/health-updates",
        Some(&an),
        &json!({"temperature_c": 37.8, "spo2": 96, "symptoms": []}),
    )
    .await;
    let path = format!("/api/v1/residents/{}/health-book", RESIDENTS[0].0);
    let book: Value = app.get_json(&path, Some(&app.health)).await;
    for key in [
        "person",
        "status",
        "declarations",
        "passes",
        "visits",
        "samples",
        "vaccinations",
        "cases",
        "follow_ups",
        "health_updates",
    ] {
        assert!(!book[key].is_null(), "{key} missing: {book}");
    }
    assert_eq!(book["person"]["full_name"], RESIDENTS[0].1);
    assert_eq!(book["status"]["colour"], "yellow");
    assert_eq!(book["status"]["reasons"][0]["kind"], "declared_symptom");
    assert!(book["status"]["reasons"][0]["since"].is_string());
    assert_eq!(book["declarations"].as_array().unwrap().len(), 1);
    assert_eq!(book["declarations"][0]["symptoms"], json!(["fever"]));
    assert_eq!(book["passes"][0]["live"], true);
    assert_eq!(book["vaccinations"][0]["date"], "2021-08-10");
    assert_eq!(book["health_updates"][0]["temperature_c"], 37.8);
    assert_eq!(book["samples"], json!([]));

    // A positive rapid antigen result is a reason of its own, orange by the rules until a PCR settles it.
    let at = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let res = app
        .post(
            "/api/v1/samples",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[0].0, "reason": "suspected", "test_type": "rapid_antigen",
                    "collected_at": at(5)}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let sample: Value = res.json().await.unwrap();
    let res = app
        .post(
            "/api/v1/results",
            Some(&app.health),
            &json!({"sample_id": sample["id"], "result": "positive", "tested_at": at(4),
                    "lab": "Phòng xét nghiệm CDC"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let book: Value = app.get_json(&path, Some(&app.health)).await;
    // The positive antigen ordered a PCR at once (the newest sample); the antigen sample holds its result.
    assert_eq!(book["samples"][0]["test_type"], "pcr", "{book}");
    assert_eq!(book["samples"][1]["result"]["result"], "positive", "{book}");
    let reasons = book["status"]["reasons"].as_array().unwrap();
    let positive = reasons
        .iter()
        .find(|r| r["kind"] == "positive_result")
        .unwrap();
    assert_eq!(positive["colour"], "orange");
    assert!(
        positive["detail"]
            .as_str()
            .unwrap()
            .contains("Phòng xét nghiệm CDC")
    );
    assert_eq!(book["status"]["colour"], "orange");

    // An open case is a reason with its date; the colour is the case's.
    app.confirmed_case(0, 3).await;
    let book: Value = app.get_json(&path, Some(&app.officer)).await;
    assert_eq!(book["status"]["colour"], "red");
    assert_eq!(book["status"]["reasons"][0]["kind"], "open_case");
    assert_eq!(book["cases"][0]["classification"], "f0");

    // Another district's officer: 404, as other reads of people; a checkpoint: 403. Reads are audited.
    let other = app.token(Role::Officer, common::OTHER_COMMUNE).await;
    assert_eq!(app.get(&path, Some(&other)).await.status(), 404);
    assert_eq!(app.get(&path, Some(&app.checkpoint)).await.status(), 403);
    let audited = app
        .count(&format!(
            "audit_log WHERE action = 'health_book.read' AND subject = 'citizen:{}'",
            RESIDENTS[0].0
        ))
        .await;
    assert_eq!(audited, 3, "each of the three reads above");
    let own: Value = app.get_json("/api/v1/me/health-book", Some(&an)).await;
    assert_eq!(own["person"]["citizen_id"], RESIDENTS[0].0);
    assert_eq!(
        app.count("audit_log WHERE action = 'health_book.read.own'")
            .await,
        1
    );
}

fn validator_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-validator")
}

/// The independent validator's verdict on `doc`; `None` (with a notice) where node or its modules are missing.
fn validate(doc: &Value) -> Option<Value> {
    let present = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
        && validator_dir()
            .join("node_modules/fhir/package.json")
            .exists();
    if !present {
        assert!(
            std::env::var_os("CI").is_none(),
            "the FHIR validator is missing"
        );
        eprintln!("FHIR validation skipped: node or the fhir package is missing");
        return None;
    }
    let mut child = Command::new("node")
        .arg(validator_dir().join("validate.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(doc).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let results: Value = serde_json::from_slice(&out.stdout).unwrap();
    Some(results[0].clone())
}

async fn the_health_book_exports_as_a_valid_fhir_document(app: TestApp) {
    app.pass_of(0, false).await;
    app.dose(0, "2021-08-10").await;
    let an = session_of(&app, 0).await;
    app.post_json(
        "/api/v1/me/health-updates",
        Some(&an),
        &json!({"temperature_c": 37.5, "spo2": 97, "symptoms": []}),
    )
    .await;
    // A negative PCR, then a positive one with its Ct.
    let hours_ago = |h: i64| {
        (chrono::Utc::now() - chrono::Duration::hours(h))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    for (result, ct) in [("negative", Value::Null), ("positive", json!(21.5))] {
        let sample = app
            .post_json(
                "/api/v1/samples",
                Some(&app.health),
                &json!({"citizen_id": RESIDENTS[0].0, "reason": "screening", "test_type": "pcr", "collected_at": hours_ago(5)}),
            )
            .await;
        let res = app
            .post(
                "/api/v1/results",
                Some(&app.health),
                &json!({"sample_id": sample["id"], "result": result, "tested_at": hours_ago(1), "lab": "CDC Sóc Trăng", "ct": ct}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    let path = format!("/api/v1/residents/{}/health-book.fhir", RESIDENTS[0].0);
    let res = app.get(&path, Some(&app.health)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/fhir+json");
    let doc: Value = res.json().await.unwrap();
    assert_eq!(doc["type"], "document");
    let kinds: Vec<&str> = doc["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resource"]["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Composition",
            "Patient",
            "Immunization",
            "Observation",
            "Observation",
            "Observation",
            "Observation",
            "DiagnosticReport",
            "DiagnosticReport",
            "Specimen",
            "Specimen"
        ]
    );
    let entries = doc["entry"].as_array().unwrap();
    let codes: Vec<&str> = entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Observation")
        .map(|e| e["resource"]["code"]["coding"][0]["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes[..2], ["8310-5", "59408-5"]);
    // Each report is listed in the results section and points at its Observation and Specimen in the
    // document; the findings are the negative, then the positive with its Ct.
    let entry = |url: &Value| {
        entries
            .iter()
            .find(|e| e["fullUrl"] == *url)
            .unwrap_or_else(|| panic!("{url} is not an entry of {doc:#}"))
    };
    let sections = doc["entry"][0]["resource"]["section"].as_array().unwrap();
    let listed = &sections.last().unwrap()["entry"];
    let mut findings = Vec::new();
    for e in entries
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "DiagnosticReport")
    {
        assert!(
            listed
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["reference"] == e["fullUrl"]),
            "{listed}"
        );
        let report = &e["resource"];
        let observation = &entry(&report["result"][0]["reference"])["resource"];
        assert_eq!(observation["resourceType"], "Observation");
        let specimen = entry(&report["specimen"][0]["reference"]);
        assert_eq!(specimen["resource"]["resourceType"], "Specimen");
        assert_eq!(observation["specimen"]["reference"], specimen["fullUrl"]);
        assert_eq!(report["subject"]["reference"], entries[1]["fullUrl"]);
        findings.push((
            observation["valueCodeableConcept"]["coding"][0]["display"].clone(),
            observation["component"][0]["valueQuantity"]["value"].clone(),
        ));
    }
    assert_eq!(
        findings,
        [
            (json!("Not detected"), Value::Null),
            (json!("Detected"), json!(21.5))
        ]
    );
    if let Some(verdict) = validate(&doc) {
        assert_eq!(verdict["valid"], true, "{verdict:#}\n{doc:#}");
    }
    // The validator does catch a document without its Composition first (bdl-11).
    let mut broken = doc.clone();
    broken["entry"].as_array_mut().unwrap().remove(0);
    if let Some(verdict) = validate(&broken) {
        assert_eq!(verdict["valid"], false);
        assert!(verdict["messages"].to_string().contains("bdl-11"));
    }
    // The resident's own, and jurisdiction as for the JSON book.
    let own = app.get("/api/v1/me/health-book.fhir", Some(&an)).await;
    assert_eq!(own.status(), 200);
    let other = app.token(Role::Health, common::OTHER_COMMUNE).await;
    assert_eq!(app.get(&path, Some(&other)).await.status(), 404);
    assert_eq!(
        app.count("audit_log WHERE action = 'health_book.fhir'")
            .await,
        1
    );
}

async fn the_book_prints_on_a4_in_vietnamese_with_names_and_local_times(app: TestApp) {
    app.pass_of(0, true).await;
    let an = session_of(&app, 0).await;
    app.post_json(
        "/api/v1/me/health-updates",
        Some(&an),
        &json!({"temperature_c": 38.1, "spo2": 95, "symptoms": ["cough"]}),
    )
    .await;
    let cookie = format!("kd_session={an}");
    let home = app
        .get_with("/", "cookie", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("href=\"/me/health-book\""),
        "the resident's page links to the book"
    );
    assert!(home.contains("data-api=\"/api/v1/me/health-updates\""));
    assert!(home.contains("Cập nhật sức khỏe hằng ngày"));

    let page = app
        .get_with("/me/health-book", "cookie", &cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Sổ sức khỏe điện tử"));
    assert!(page.contains("@page{size:A4"));
    assert!(page.contains(RESIDENTS[0].1), "the person's name");
    assert!(
        page.contains("Khai báo triệu chứng: Sốt"),
        "why yellow, in Vietnamese"
    );
    assert!(page.contains("38.1 °C") && page.contains("SpO2 95%"));
    let time = regex_like_local_time(&page);
    assert!(time, "a Vietnam time as 14:37 29/11/2026");
    assert!(
        !page.contains(RESIDENTS[0].0),
        "no citizen id on the printed book"
    );

    // Staff open it from the person search; outside their jurisdiction they get the refusal, not the book.
    let found = app
        .get_with(
            &format!("/officer?q={}", RESIDENTS[0].0),
            "authorization",
            &format!("Bearer {}", app.commune_officer),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        found.contains(&format!("href=\"/health-book/{}\"", RESIDENTS[0].0)),
        "{found}"
    );
    let other = app.token(Role::Health, common::OTHER_COMMUNE).await;
    let refused = app
        .get_with(
            &format!("/health-book/{}", RESIDENTS[0].0),
            "authorization",
            &format!("Bearer {other}"),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!refused.contains(RESIDENTS[0].1));
}

/// Whether `text` holds a time written `HH:MM DD/MM/YYYY`.
fn regex_like_local_time(text: &str) -> bool {
    let b = text.as_bytes();
    b.windows(16).any(|w| {
        let d = |i: usize| w[i].is_ascii_digit();
        d(0) && d(1)
            && w[2] == b':'
            && d(3)
            && d(4)
            && w[5] == b' '
            && d(6)
            && d(7)
            && w[8] == b'/'
            && d(9)
            && d(10)
            && w[11] == b'/'
            && d(12)
            && d(13)
            && d(14)
            && d(15)
    })
}
