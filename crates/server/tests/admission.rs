//! The vaccination state beside the colour: carried by the pass (offline), read from the records (online),
//! and a place's requirement deciding after the colour. On SQLite and (when `KIEMDICH_TEST_PG_URL` is set)
//! PostgreSQL.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, RESIDENTS, TestApp};
use serde_json::{Value, json};

on_both_backends!(
    passes_carry_the_vaccination_state_at_issue,
    a_place_requiring_vaccination_refuses_an_admitted_colour_that_does_not_meet_it,
    the_colour_decides_first,
    the_online_scan_reads_the_records_of_today,
    requirements_are_checked_and_default_to_none,
);

/// The day `days` days before today on the rules' clock, as `YYYY-MM-DD`.
fn days_ago(app: &TestApp, days: i64) -> String {
    let today = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    (today - chrono::Duration::days(days)).to_string()
}

async fn place(app: &TestApp, kind: &str, vaccination: Option<Value>) -> Value {
    let mut body = json!({"name": "Nhà hàng Phường 1", "kind": kind, "commune_code": COMMUNE, "lat": 9.6, "lon": 105.97});
    if let Some(v) = vaccination {
        body["vaccination"] = v;
    }
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &body)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn scan(app: &TestApp, place: &Value, token: &str, key: &str) -> Value {
    let res = app
        .post(
            &format!("/api/v1/locations/{}/scans", place["id"]),
            Some(&app.checkpoint),
            &json!({"token": token, "direction": "in", "idempotency_key": key}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn two_weeks() -> Value {
    json!({"min_doses": 2, "min_days_since_last": 14})
}

async fn passes_carry_the_vaccination_state_at_issue(app: TestApp) {
    app.dose(0, "2021-07-01").await;
    app.dose(0, "2021-09-12").await;
    let vaccinated = app.pass_of(0, false).await;
    let none = app.pass_of(1, false).await;
    // Offline, with nothing but the published trust list.
    let list: kiemdich_pass::TrustList = app
        .get("/api/v1/trust-list", None)
        .await
        .json()
        .await
        .unwrap();
    let offline = kiemdich_pass::Verifier::new(&list).unwrap();
    let holder = offline
        .verify(&vaccinated, chrono::Utc::now())
        .unwrap()
        .holder;
    assert_eq!(
        holder.vaccination,
        kiemdich_domain::VaccinationSummary {
            doses: 2,
            last_dose: chrono::NaiveDate::from_ymd_opt(2021, 9, 12)
        }
    );
    assert!(
        offline
            .verify(&none, chrono::Utc::now())
            .unwrap()
            .holder
            .vaccination
            .is_none()
    );
    // Online, the verification shows it beside the colour.
    let online = app.verify(&vaccinated).await;
    assert_eq!(online["status"], "green");
    assert_eq!(
        online["holder"]["vaccination"],
        json!({"doses": 2, "last_dose": "2021-09-12"})
    );
    assert!(vaccinated.len() < 300, "{} characters", vaccinated.len());
    // The printed card says it beside the colour band.
    let id = app
        .get_json(
            &format!("/api/v1/residents/{}", RESIDENTS[0].0),
            Some(&app.health),
        )
        .await["pass"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let card = app
        .get(&format!("/passes/{id}/card"), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        card.contains("Đã tiêm 2 mũi · mũi cuối 12/09/2021"),
        "{card}"
    );
}

async fn a_place_requiring_vaccination_refuses_an_admitted_colour_that_does_not_meet_it(
    app: TestApp,
) {
    let restaurant = place(&app, "business", Some(two_weeks())).await;
    assert_eq!(restaurant["vaccination"], two_weeks());
    // Two doses, the last long ago: admitted.
    app.dose(0, "2021-07-01").await;
    app.dose(0, "2021-09-12").await;
    let admitted = scan(&app, &restaurant, &app.pass_of(0, false).await, "a").await;
    assert_eq!(
        (
            &admitted["decision"],
            &admitted["reason"],
            &admitted["status"]
        ),
        (&json!("admit"), &json!("valid"), &json!("green"))
    );
    assert_eq!(
        admitted["vaccination"],
        json!({"doses": 2, "last_dose": "2021-09-12", "meets": true})
    );
    // One dose: the colour is admitted, the vaccination is not met; the two stay separate facts.
    app.dose(1, "2021-09-12").await;
    let one = scan(&app, &restaurant, &app.pass_of(1, false).await, "b").await;
    assert_eq!(
        (&one["decision"], &one["reason"], &one["status"]),
        (
            &json!("refuse"),
            &json!("vaccination_not_met"),
            &json!("green")
        )
    );
    assert_eq!(
        one["vaccination"],
        json!({"doses": 1, "last_dose": "2021-09-12", "meets": false})
    );
    // Two doses, the last 13 days ago: one day short.
    app.dose(3, &days_ago(&app, 60)).await;
    app.dose(3, &days_ago(&app, 13)).await;
    let recent = scan(&app, &restaurant, &app.pass_of(3, false).await, "c").await;
    assert_eq!(recent["reason"], "vaccination_not_met");
    assert_eq!(recent["vaccination"]["doses"], 2);
    // No data at all: its own reason, saying what to do.
    let child = scan(&app, &restaurant, &app.pass_of(2, false).await, "d").await;
    assert_eq!(
        (&child["decision"], &child["reason"]),
        (&json!("refuse"), &json!("vaccination_no_data"))
    );
    assert_eq!(
        child["vaccination"],
        json!({"doses": 0, "last_dose": null, "meets": false})
    );
    // A look-up by identity document decides the same way.
    let res = app
        .post(
            &format!("/api/v1/locations/{}/scans", restaurant["id"]),
            Some(&app.checkpoint),
            &json!({"citizen_id": RESIDENTS[1].0, "identity_checked": true, "direction": "in", "idempotency_key": "e"}),
        )
        .await;
    let looked_up: Value = res.json().await.unwrap();
    assert_eq!(looked_up["reason"], "vaccination_not_met");
    assert_eq!(looked_up["vaccination"]["meets"], false);
    // The refusal is recorded as a refusal with its reason.
    let presence = app
        .get_json(
            &format!("/api/v1/locations/{}/presence", restaurant["id"]),
            Some(&app.health),
        )
        .await;
    let reasons: Vec<&str> = presence["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.starts_with("vaccination_"))
            .count(),
        4,
        "{reasons:?}"
    );
}

async fn the_colour_decides_first(app: TestApp) {
    // A checkpoint admits green only; requiring vaccination too, a yellow person with no dose is refused for
    // the colour, and a place requiring nothing says `meets` null.
    let checkpoint = place(&app, "checkpoint", Some(two_weeks())).await;
    let sick = app.pass_of(0, true).await;
    let refused = scan(&app, &checkpoint, &sick, "a").await;
    assert_eq!(
        (&refused["reason"], &refused["status"]),
        (&json!("status_yellow_not_admitted"), &json!("yellow"))
    );
    assert_eq!(refused["vaccination"]["meets"], false);
    let market = place(&app, "market", None).await;
    assert_eq!(market["vaccination"], Value::Null);
    let free = scan(&app, &market, &sick, "b").await;
    assert_eq!(
        (&free["decision"], &free["reason"]),
        (&json!("admit"), &json!("valid"))
    );
    assert_eq!(
        free["vaccination"],
        json!({"doses": 0, "last_dose": null, "meets": null})
    );
}

async fn the_online_scan_reads_the_records_of_today(app: TestApp) {
    // The pass was issued before the doses were recorded: it carries none, but the online scan reads the
    // records now, as it reads the status now.
    let restaurant = place(&app, "business", Some(two_weeks())).await;
    let token = app.pass_of(0, false).await;
    app.dose(0, "2021-07-01").await;
    app.dose(0, "2021-09-12").await;
    let answer = scan(&app, &restaurant, &token, "a").await;
    assert_eq!(answer["decision"], "admit");
    assert_eq!(answer["vaccination"]["meets"], true);
    assert_eq!(
        app.verify(&token).await["holder"]["vaccination"]["doses"],
        0,
        "the pass says what was known at issue"
    );
    // A resend gets the stored decision, with the vaccination state beside it.
    let res = app
        .post(
            &format!("/api/v1/locations/{}/scans", restaurant["id"]),
            Some(&app.checkpoint),
            &json!({"token": token, "direction": "in", "idempotency_key": "a"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), answer);
}

async fn requirements_are_checked_and_default_to_none(app: TestApp) {
    let res = app
        .post(
            "/api/v1/locations",
            Some(&app.officer),
            &json!({"name": "Quán", "kind": "business", "commune_code": COMMUNE, "lat": 9.6, "lon": 105.97,
                    "vaccination": {"min_doses": 11, "min_days_since_last": -1}}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(
        common::error_fields(&err),
        ["vaccination.min_doses", "vaccination.min_days_since_last"]
    );
    // No kind requires vaccination by default, and zero doses is no requirement.
    for kind in ["checkpoint", "hospital", "market", "business", "school"] {
        assert_eq!(place(&app, kind, None).await["vaccination"], Value::Null);
    }
    assert_eq!(
        place(&app, "business", Some(json!({"min_doses": 0}))).await["vaccination"],
        Value::Null
    );
    assert_eq!(
        place(&app, "business", Some(json!({"min_doses": 1}))).await["vaccination"],
        json!({"min_doses": 1, "min_days_since_last": 0})
    );
}
