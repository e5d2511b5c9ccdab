//! Cases, tracing over the API and confirmation with its effects, on both backends.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, masked, person};
use kiemdich_domain::Visit;
use serde_json::{Value, json};

on_both_backends!(
    a_confirmed_case_is_traced_and_its_contacts_confirmed_with_effects,
    bad_cases_and_confirmations_are_refused_and_write_nothing,
    zones_chains_and_the_course_of_a_case,
    a_published_case_s_places_reach_the_public_list_without_naming_anyone,
);

fn citizen(i: usize) -> i64 {
    RESIDENTS[i].0.parse().unwrap()
}

/// An (0) is the case at a market; Bé (1) shares 30 minutes with her, Thạch (3) only 14; Cúc (2) shares an hour
/// with Bé at a hospital three hours later. Returns the onset date (five days ago).
async fn scene(app: &TestApp) -> chrono::NaiveDate {
    let (market, hospital) = (
        app.location("market", COMMUNE).await,
        app.location("hospital", COMMUNE).await,
    );
    let rules = &app.state.rules.tracing;
    let day = rules.local_date(chrono::Utc::now().timestamp()) - chrono::Duration::days(5);
    let t0 = rules.day_start(day) + 8 * 3600;
    let v = |location_id, who, from: i64, to: i64| Visit {
        location_id,
        citizen: citizen(who),
        entered_at: t0 + from * 60,
        exited_at: Some(t0 + to * 60),
    };
    let visits = [
        v(market, 0, 0, 60),
        v(market, 1, 30, 90),
        v(market, 3, 46, 60),
        v(hospital, 1, 180, 300),
        v(hospital, 2, 180, 240),
    ];
    assert_eq!(app.store.import_visits(&visits).await.unwrap(), 5);
    day
}

async fn open_case(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/api/v1/cases", Some(&app.health), &body).await
}

async fn a_confirmed_case_is_traced_and_its_contacts_confirmed_with_effects(app: TestApp) {
    let day = scene(&app).await;
    let (own, contact) = (app.pass_of(0, false).await, app.pass_of(1, false).await);
    let res = open_case(
        &app,
        json!({"citizen_id": RESIDENTS[0].0, "onset": day.to_string()}),
    )
    .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let case: Value = res.json().await.unwrap();
    assert_eq!(case["classification"], "f0");
    assert_eq!(case["revoked_passes"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.verify(&own).await["reason"],
        "revoked",
        "the case's pass stops at once"
    );
    let id = case["id"].as_i64().unwrap();
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&app.health),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let trace: Value = res.json().await.unwrap();
    assert_eq!(trace["rule_version"], "VN-2021-12");
    let found: Vec<(&str, i64, &str)> = trace["contacts"]
        .as_array()
        .unwrap()
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
        found,
        [
            (RESIDENTS[1].0, 1, RESIDENTS[0].0),
            (RESIDENTS[2].0, 2, RESIDENTS[1].0)
        ]
    );
    assert_eq!(trace["contacts"][0]["exposures"][0]["minutes"], 30);
    let f1_only: Value = app
        .post_json(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&app.health),
            &json!({"depth": 1}),
        )
        .await;
    assert_eq!(f1_only["contacts"].as_array().unwrap().len(), 1);
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/confirm"),
            Some(&app.health),
            &json!({"trace_id": trace["trace_id"]}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let confirmed: Value = res.json().await.unwrap();
    let opened = confirmed["confirmed"].as_array().unwrap();
    assert_eq!(opened.len(), 2);
    assert_eq!(opened[0]["classification"], "f1");
    assert_eq!(opened[0]["revoked_passes"].as_array().unwrap().len(), 1);
    assert_eq!(app.verify(&contact).await["reason"], "revoked");
    let delta: Value = app.get_json("/api/v1/revocations?since=0", None).await;
    assert_eq!(
        delta["pass_ids"].as_array().unwrap().len(),
        2,
        "offline scanners learn both at their next sync"
    );
    let f1: Value = app
        .get_json(
            &format!("/api/v1/cases/{}", opened[0]["case_id"]),
            Some(&app.health),
        )
        .await;
    assert_eq!(f1["source_case_id"], id);
    assert_eq!(
        f1["quarantine_until"],
        (day + chrono::Duration::days(14)).to_string()
    );
    let f2: Value = app
        .get_json(
            &format!("/api/v1/cases/{}", opened[1]["case_id"]),
            Some(&app.health),
        )
        .await;
    assert_eq!(
        f2["source_case_id"], opened[0]["case_id"],
        "the chain runs F0 → F1 → F2"
    );
    assert_eq!(app.count("case_exposures").await, 2);
    let outbox: Value = app.get_json("/api/v1/outbox", Some(&app.admin)).await;
    let to = |r: &str| {
        outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["recipient"] == r)
    };
    assert!(
        to(&masked(RESIDENTS[1].5)) && to(COMMUNE) && to(RESIDENTS[2].0),
        "SMS, commune and in-app notices: {outbox}"
    );
    // The F1 reads, with the diacritics and every placeholder filled, what they are and until when.
    let told = app.store.notices_for(RESIDENTS[1].0, 10).await.unwrap();
    let until = (day + chrono::Duration::days(14))
        .format("%d/%m/%Y")
        .to_string();
    assert!(
        told.iter().any(
            |n| n.body.contains("bạn được xác định là F1 (tiếp xúc gần)")
                && n.body.contains(&format!("Cách ly đến hết ngày {until}."))
                && !n.body.contains('{')
        ),
        "{told:?}"
    );
    // Daily follow-up: the F0 and the F1 are due, the F2 is only watched; an officer records a call.
    let due: Value = app
        .get_json("/api/v1/follow-ups", Some(&app.commune_officer))
        .await;
    let people: Vec<&str> = due["follow_ups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["citizen_id"].as_str().unwrap())
        .collect();
    assert_eq!(people, [RESIDENTS[0].0, RESIDENTS[1].0]);
    let f1_case = opened[0]["case_id"].clone();
    let record = |body: Value| {
        let app = &app;
        async move {
            app.post("/api/v1/follow-ups", Some(&app.commune_officer), &body)
                .await
        }
    };
    let res = record(json!({"case_id": f1_case, "outcome": "well", "channel": "call", "note": "no smartphone; called the landline"})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(
        record(json!({"case_id": f1_case, "outcome": "fine", "channel": "call"}))
            .await
            .status(),
        422
    );
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .to_string();
    assert_eq!(
        record(json!({"case_id": f1_case, "outcome": "well", "channel": "call", "day": tomorrow}))
            .await
            .status(),
        422
    );
    let due: Value = app.get_json("/api/v1/follow-ups", Some(&app.health)).await;
    assert_eq!(due["follow_ups"][1]["outcome"], "well");
    assert_eq!(due["follow_ups"][1]["channel"], "call");
    // The F1 reads the notice in the app too.
    let (res, _) = app.resident_sign_in(1).await;
    let token = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me: Value = app.get_json("/api/v1/me", Some(&token)).await;
    assert!(
        me["notices"][0]["text"].as_str().unwrap().contains("F1"),
        "{me}"
    );
    // A new declaration cannot make an F1 green again.
    let again = app.declare(vec![person(1)]).await;
    assert_eq!(again["people"][0]["status"], "orange");
    let audit = app
        .store
        .audit_entries(&format!("citizen:{}", RESIDENTS[1].0), 50)
        .await
        .unwrap();
    assert!(audit.iter().any(|e| e.action == "case.read"));
}

async fn bad_cases_and_confirmations_are_refused_and_write_nothing(app: TestApp) {
    let day = scene(&app).await;
    let future = (day + chrono::Duration::days(30)).to_string();
    for (body, field) in [
        (
            json!({"citizen_id": RESIDENTS[0].0, "onset_date": future}),
            "onset_date",
        ),
        (
            json!({"citizen_id": "094090999999", "onset_date": day.to_string()}),
            "citizen_id",
        ),
        (json!({"citizen_id": RESIDENTS[0].0}), "onset_date"),
        (
            json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string(), "classification": "f1"}),
            "classification",
        ),
        (
            json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string(), "isolated_date": (day - chrono::Duration::days(1)).to_string()}),
            "isolated_date",
        ),
    ] {
        let res = open_case(&app, body.clone()).await;
        assert_eq!(res.status(), 422, "{body}");
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["fields"][0]["field"], field, "{err}");
    }
    let res = app
        .post(
            "/api/v1/cases",
            Some(&app.officer),
            &json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string()}),
        )
        .await;
    assert_eq!(res.status(), 403, "cases are for health roles");
    assert_eq!(app.count("cases").await, 0);
    let body = json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string()});
    let case: Value = open_case(&app, body.clone()).await.json().await.unwrap();
    let res = open_case(&app, body).await;
    assert_eq!(res.status(), 409, "one active case per person");
    let id = case["id"].as_i64().unwrap();
    let bad_depth = app
        .post(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&app.health),
            &json!({"depth": 9}),
        )
        .await;
    assert_eq!(bad_depth.status(), 422);
    let trace: Value = app
        .post_json(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&app.health),
            &json!({}),
        )
        .await;
    let confirm = |body: Value| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/cases/{id}/confirm"),
                Some(&app.health),
                &body,
            )
            .await
        }
    };
    // The F2 alone cannot be confirmed before the F1 it was exposed to.
    let res =
        confirm(json!({"trace_id": trace["trace_id"], "citizen_ids": [RESIDENTS[2].0]})).await;
    assert_eq!(res.status(), 422);
    let res =
        confirm(json!({"trace_id": trace["trace_id"], "citizen_ids": [RESIDENTS[3].0]})).await;
    assert_eq!(res.status(), 422, "not a contact of this trace");
    assert_eq!(app.count("cases").await, 1, "nothing half-written");
    let res =
        confirm(json!({"trace_id": trace["trace_id"], "citizen_ids": [RESIDENTS[1].0]})).await;
    assert_eq!(res.status(), 201);
    let res = confirm(json!({"trace_id": trace["trace_id"]})).await;
    assert_eq!(res.status(), 409, "confirming an already confirmed contact");
    assert_eq!(
        app.count("cases").await,
        2,
        "the F2 of the refused batch was not written either"
    );
    let res = confirm(json!({"trace_id": 999})).await;
    assert_eq!(res.status(), 422);
}

async fn zones_chains_and_the_course_of_a_case(app: TestApp) {
    let day = scene(&app).await;
    let case: Value = open_case(
        &app,
        json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string()}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = case["id"].as_i64().unwrap();
    // Zoning: the market during the case's hour, with everyone who shared any of it (14 minutes count here).
    let res = app
        .get(&format!("/api/v1/cases/{id}/zones"), Some(&app.health))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let zones: Value = serde_json::from_str(&text).unwrap();
    let places = zones["places"].as_array().unwrap();
    assert_eq!(places.len(), 1);
    assert_eq!(places[0]["people_present"], 2);
    assert_eq!(
        zones["people_by_home_commune"],
        json!({COMMUNE: 1, OTHER_COMMUNE: 1})
    );
    for r in &RESIDENTS[1..] {
        assert!(
            !text.contains(r.0) && !text.contains(r.1),
            "zoning shows counts, not people"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/cases/{id}/zones"), Some(&app.officer))
            .await
            .status(),
        403
    );
    let notified: Value = app
        .post_json(
            &format!("/api/v1/cases/{id}/zones/notify"),
            Some(&app.health),
            &json!({}),
        )
        .await;
    assert_eq!(notified["people_told"], 2, "both people present are told");
    let messages = app.count("outbox").await;
    let again: Value = app
        .post_json(
            &format!("/api/v1/cases/{id}/zones/notify"),
            Some(&app.health),
            &json!({}),
        )
        .await;
    assert_eq!(again["people_told"], 0, "one notice per person per zone");
    assert_eq!(app.count("outbox").await, messages, "nothing queued twice");
    let outbox: Value = app.get_json("/api/v1/outbox", Some(&app.admin)).await;
    let warning = outbox
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["recipient"] == masked(RESIDENTS[3].5))
        .unwrap();
    assert!(
        !warning["body"].as_str().unwrap().contains(RESIDENTS[0].1),
        "the case is not named"
    );
    assert!(
        warning["body"]
            .as_str()
            .unwrap()
            .contains("cùng lúc với một ca bệnh"),
        "{warning}"
    );
    // The chain after confirmation: F0 → F1 → F2, as JSON, DOT and CSV.
    let trace: Value = app
        .post_json(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&app.health),
            &json!({}),
        )
        .await;
    let confirmed: Value = app
        .post_json(
            &format!("/api/v1/cases/{id}/confirm"),
            Some(&app.health),
            &json!({"trace_id": trace["trace_id"]}),
        )
        .await;
    let f2 = confirmed["confirmed"][1]["case_id"].as_i64().unwrap();
    let chain: Value = app
        .get_json(&format!("/api/v1/cases/{f2}/chain"), Some(&app.health))
        .await;
    assert_eq!(chain["cases"].as_array().unwrap().len(), 3);
    assert_eq!(chain["links"].as_array().unwrap().len(), 2);
    assert_eq!(chain["links"][0]["from_case"], id);
    let dot = app
        .get(
            &format!("/api/v1/cases/{id}/chain?format=dot"),
            Some(&app.health),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        dot.starts_with("digraph") && dot.contains(&format!("c{id} -> c")),
        "{dot}"
    );
    let csv = app
        .get(
            &format!("/api/v1/cases/{id}/chain?format=csv"),
            Some(&app.health),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert_eq!(
        app.get(
            &format!("/api/v1/cases/{id}/chain?format=png"),
            Some(&app.health)
        )
        .await
        .status(),
        422
    );
    // The course: released ends the case; a person may then become a case again.
    let state = |body: Value| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/cases/{id}/state"),
                Some(&app.health),
                &body,
            )
            .await
        }
    };
    assert_eq!(state(json!({"state": "cured"})).await.status(), 422);
    let released: Value = state(json!({"state": "released"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(released["active"], false);
    assert_eq!(state(json!({"state": "hospitalised"})).await.status(), 409);
    let again = open_case(
        &app,
        json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string()}),
    )
    .await;
    assert_eq!(again.status(), 201);
}

async fn a_published_case_s_places_reach_the_public_list_without_naming_anyone(app: TestApp) {
    let day = scene(&app).await;
    let case: Value = open_case(
        &app,
        json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string()}),
    )
    .await
    .json()
    .await
    .unwrap();
    let id = case["id"].as_i64().unwrap();
    let public = "/api/v1/public/exposure-places";
    assert_eq!(
        app.get_json(public, None).await,
        json!([]),
        "nothing is published by itself"
    );
    let page = |app: &TestApp| {
        let url = app.at("/public");
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap().text().await.unwrap() }
    };
    assert!(
        page(&app).await.contains("Hiện không có địa điểm"),
        "the public page (now kept for a while) lists no place yet"
    );
    let publish = format!("/api/v1/cases/{id}/zones/publish");
    for (body, field) in [(json!({"days": 0}), "days"), (json!({"days": 61}), "days")] {
        let res = app.post(&publish, Some(&app.health), &body).await;
        assert_eq!(res.status(), 422);
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["fields"][0]["field"], field, "{err}");
        assert_eq!(err["fields"][0]["code"], "out_of_range", "{err}");
    }
    assert_eq!(
        app.post(&publish, Some(&app.officer), &json!({}))
            .await
            .status(),
        403,
        "only health staff publish"
    );
    assert_eq!(
        app.count("exposure_places").await,
        0,
        "refusals write nothing"
    );
    let res = app
        .post(&publish, Some(&app.health), &json!({"days": 3}))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let published: Value = res.json().await.unwrap();
    assert_eq!(published["places"], 1, "{published}");
    let expires = chrono::DateTime::parse_from_rfc3339(published["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    let now = chrono::Utc::now().timestamp();
    assert!((expires - (now + 3 * 86_400)).abs() < 60, "{published}");
    assert!(
        !page(&app).await.contains("Hiện không có địa điểm"),
        "a publication shows on the public page at once"
    );
    // Publishing again replaces, never doubles.
    app.post(&publish, Some(&app.health), &json!({})).await;
    assert_eq!(app.count("exposure_places").await, 1);

    let res = app.get(public, None).await;
    assert_eq!(res.status(), 200);
    let tag = res.headers()["etag"].to_str().unwrap().to_owned();
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"),
        "cacheable"
    );
    let text = res.text().await.unwrap();
    let places: Value = serde_json::from_str(&text).unwrap();
    let place = &places[0];
    assert_eq!(place["commune_code"], COMMUNE, "{place}");
    assert!(place["location"].as_str().unwrap().len() > 2, "{place}");
    assert!(place["lat"].is_f64() && place["lon"].is_f64(), "{place}");
    let (from, to) = (
        place["from"].as_str().unwrap(),
        place["to"].as_str().unwrap(),
    );
    assert!(from < to, "{place}");
    for r in RESIDENTS {
        assert!(
            !text.contains(r.0) && !text.contains(r.1),
            "no person: {text}"
        );
    }
    assert!(
        !text.contains(&format!("\"case_id\":{id}")),
        "no case: {text}"
    );
    let again = app.get_with(public, "if-none-match", &tag).await;
    assert_eq!(again.status(), 304, "the client's copy is current");

    // Only a confirmed case's places are published.
    let suspected: Value = open_case(
        &app,
        json!({"citizen_id": RESIDENTS[3].0, "classification": "suspected", "onset_date": day.to_string()}),
    )
    .await
    .json()
    .await
    .unwrap();
    let res = app
        .post(
            &format!("/api/v1/cases/{}/zones/publish", suspected["id"]),
            Some(&app.health),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 409);
    // Withdrawing empties the list.
    let withdrawn: Value = app
        .delete(&publish, Some(&app.health))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(withdrawn["places"], 1);
    assert_eq!(app.get_json(public, None).await, json!([]));
}
