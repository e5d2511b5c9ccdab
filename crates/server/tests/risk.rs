//! Commune risk levels over the API: where a case was detected, figures and checklists, the computed level with
//! its explanation, decisions and their signed PDFs, history; bad input refused with nothing written. Both
//! backends.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp};
use kiemdich_domain::IsoWeek;
use kiemdich_domain::{CaseClass, CaseSource, CaseState, CitizenId, DetectedIn};
use kiemdich_server::Scope;
use kiemdich_store::{NewCase, Role, StoreError};
use serde_json::{Value, json};

on_both_backends!(
    a_commune_is_assessed_from_community_cases_figures_and_its_checklist,
    decisions_are_recorded_whole_or_refused_and_set_the_official_level,
    the_signed_decision_is_a_pdf_of_bounded_size,
    a_backfill_imports_cases_in_bulk_that_count_for_levels_and_notify_no_one,
);

async fn put(app: &TestApp, path: &str, token: &str, body: &Value) -> reqwest::Response {
    app.client
        .put(app.at(path))
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .unwrap()
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    app.state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp())
}

async fn a_commune_is_assessed_from_community_cases_figures_and_its_checklist(app: TestApp) {
    let week = IsoWeek::last_full(today(&app));
    let sample = week.monday().to_string();
    // One community case and one found in quarantine, both sampled last week.
    let res = app
        .post(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[0].0, "sample_date": sample}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let case: Value = res.json().await.unwrap();
    assert_eq!(case["detected_in"], "community", "the default");
    assert_eq!(
        case["counted_on"],
        sample.as_str(),
        "counted on its sample date"
    );
    let res = app
        .post(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[1].0, "sample_date": sample, "detected_in": "quarantine"}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let quarantined: Value = res.json().await.unwrap();
    assert_eq!(quarantined["detected_in"], "quarantine");
    let bad = app
        .post_json(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[2].0, "sample_date": sample, "detected_in": "airport"}),
        )
        .await;
    assert_eq!(bad["fields"][0]["field"], "detected_in");

    // No population figure: the registry count stands in; no coverage: "no data", never zero.
    let path = format!("/api/v1/risk-levels?unit={COMMUNE}&week={week}");
    let v = app.get_json(&path, Some(&app.health)).await;
    assert_eq!(v["unit"], COMMUNE);
    assert_eq!(v["week"], week.to_string());
    assert!(v["rule_set"].is_string(), "{v}");
    let coverage = v["computed"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["measure"] == "population_full_pct" || c["measure"] == "adult_first_dose_pct")
        .unwrap()
        .clone();
    assert_eq!(coverage["band"], "no_data");
    assert!(coverage["value"].is_null());
    assert!(v["official"].is_null());

    // The official population: 10,000 people, so one community case is 10 per 100,000.
    let figures = json!({"figures": [
        {"figure": "population", "value": 10000, "source": "Cục Thống kê 2021"},
        {"figure": "population_full_pct", "period": week.to_string(), "value": 60, "source": "CDC Sóc Trăng"},
        {"figure": "adult_first_dose_pct", "period": week.to_string(), "value": 60, "source": "CDC Sóc Trăng"},
        {"figure": "vulnerable_full_pct", "value": 95, "source": "CDC Sóc Trăng"}
    ]});
    let res = put(
        &app,
        &format!("/api/v1/units/{COMMUNE}/figures"),
        &app.health,
        &figures,
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let v = app.get_json(&path, Some(&app.health)).await;
    let cases = &v["computed"]["criteria"][0];
    assert_eq!(cases["name"], "community_cases_per_100k");
    assert_eq!(
        cases["value"], 10.0,
        "the quarantined case does not count: {v}"
    );
    assert_eq!(cases["band"], "level_1");
    assert_eq!(
        v["computed"]["level"], 2,
        "low coverage raises one level: {v}"
    );
    let adj = &v["computed"]["adjustments"][0];
    assert_eq!(adj["rule"], "low_vaccination");
    assert_eq!(adj["effect"], 1);
    assert!(adj["reason"].as_str().unwrap().len() > 10);

    // Bad figures and checklists are refused whole.
    let before = app.count("unit_figures").await;
    let res = put(
        &app,
        &format!("/api/v1/units/{COMMUNE}/figures"),
        &app.health,
        &json!({"figures": [
        {"figure": "population_full_pct", "value": 140, "source": "x"},
        {"figure": "population", "value": 5, "source": "x"}]}),
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("unit_figures").await, before);
    let future = IsoWeek::of(today(&app) + chrono::Duration::days(7));
    let res = app
        .get(
            &format!("/api/v1/risk-levels?unit={COMMUNE}&week={future}"),
            Some(&app.health),
        )
        .await;
    assert_eq!(res.status(), 422, "a future week is refused");
    let res = app
        .get(
            &format!("/api/v1/risk-levels?unit={COMMUNE}&week=2021-46"),
            Some(&app.health),
        )
        .await;
    assert_eq!(res.status(), 422);
    let set = app.state.risk.for_week(week).unwrap().clone();
    let mut answers: serde_json::Map<String, Value> = set
        .capacity_checklist
        .iter()
        .map(|i| (i.id.clone(), json!(true)))
        .collect();
    let res = put(
        &app,
        &format!("/api/v1/units/{COMMUNE}/checklist"),
        &app.health,
        &json!({"week": week.to_string(), "answers": {"oxygen": true, "unknown_item": true}}),
    )
    .await;
    assert_eq!(res.status(), 422);
    answers.insert(set.capacity_checklist[0].id.clone(), json!(false));
    let res = put(
        &app,
        &format!("/api/v1/units/{COMMUNE}/checklist"),
        &app.health,
        &json!({"week": week.to_string(), "answers": answers}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let v = app.get_json(&path, Some(&app.health)).await;
    let cap = v["computed"]["criteria"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "treatment_capacity")
        .unwrap()
        .clone();
    assert_eq!(cap["band"], "below_target", "{v}");

    // Outside the jurisdiction: 403; a district aggregates its communes with the reason.
    let commune_health = app.token(Role::Health, OTHER_COMMUNE).await;
    let res = app.get(&path, Some(&commune_health)).await;
    assert_eq!(res.status(), 403);
    let v = app
        .get_json(
            &format!("/api/v1/risk-levels?unit=941&week={week}"),
            Some(&app.health),
        )
        .await;
    // Only the commune with a population has a level; communes with no data are not counted.
    assert_eq!(v["computed"]["aggregate"]["total"], 1, "{v}");
    assert_eq!(v["computed"]["level"], 2);
}

async fn decisions_are_recorded_whole_or_refused_and_set_the_official_level(app: TestApp) {
    let day = today(&app);
    let decision = json!({"number": "136/QĐ-SYT", "date": day.to_string(), "issued_by": "Sở Y tế Sóc Trăng",
        "effective_from": day.to_string(), "levels": [{"unit": COMMUNE, "level": 3}, {"unit": OTHER_COMMUNE, "level": 1}]});
    // Bad input, each named by its field, nothing written.
    for (body, field) in [
        (
            json!({"levels": [{"unit": COMMUNE, "level": 5}]}),
            "levels[0].level",
        ),
        (
            json!({"levels": [{"unit": "01001", "level": 2}]}),
            "levels[0].unit",
        ),
        (
            json!({"levels": [{"unit": "9x", "level": 2}]}),
            "levels[0].unit",
        ),
        (json!({"date": "20/11/2021"}), "date"),
        (json!({"effective_from": "2021-13-01"}), "effective_from"),
        (json!({"levels": []}), "levels"),
    ] {
        let mut b = decision.clone();
        for (k, v) in body.as_object().unwrap() {
            b[k] = v.clone();
        }
        let res = app
            .post("/api/v1/risk-decisions", Some(&app.health), &b)
            .await;
        assert_eq!(res.status(), 422, "{field}");
        let v: Value = res.json().await.unwrap();
        assert!(
            v["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|f| f["field"] == field),
            "{field}: {v}"
        );
    }
    assert_eq!(app.count("risk_decisions").await, 0);
    assert_eq!(app.count("risk_decision_levels").await, 0);
    // A district's health officer records no decision; an officer neither.
    let district = app.token(Role::Health, "941").await;
    assert_eq!(
        app.post("/api/v1/risk-decisions", Some(&district), &decision)
            .await
            .status(),
        403
    );
    assert_eq!(
        app.post("/api/v1/risk-decisions", Some(&app.officer), &decision)
            .await
            .status(),
        403
    );
    assert_eq!(app.count("risk_decisions").await, 0);

    let res = app
        .post("/api/v1/risk-decisions", Some(&app.health), &decision)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["number"], "136/QĐ-SYT");
    assert_eq!(d["levels"].as_array().unwrap().len(), 2);
    let id = d["id"].as_i64().unwrap();
    let week = IsoWeek::of(day);
    let v = app
        .get_json(
            &format!("/api/v1/risk-levels?unit={COMMUNE}&week={week}"),
            Some(&app.health),
        )
        .await;
    assert_eq!(v["official"]["level"], 3, "{v}");
    assert_eq!(v["official"]["decision"], "136/QĐ-SYT");
    assert_eq!(v["official"]["effective_from"], day.to_string());
    // A later decision replaces the level; the history keeps both, newest first.
    let mut later = decision.clone();
    later["number"] = json!("140/QĐ-SYT");
    later["levels"] = json!([{"unit": COMMUNE, "level": 2}]);
    assert_eq!(
        app.post("/api/v1/risk-decisions", Some(&app.health), &later)
            .await
            .status(),
        201
    );
    let h = app
        .get_json(
            &format!("/api/v1/risk-levels/history?unit={COMMUNE}"),
            Some(&app.health),
        )
        .await;
    let h = h["history"].as_array().unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(
        (h[0]["level"].as_i64(), h[0]["decision"].as_str()),
        (Some(2), Some("140/QĐ-SYT"))
    );
    let v = app
        .get_json(
            &format!("/api/v1/risk-levels?unit={COMMUNE}&week={week}"),
            Some(&app.health),
        )
        .await;
    assert_eq!(v["official"]["level"], 2);
    let one = app
        .get_json(&format!("/api/v1/risk-decisions/{id}"), Some(&app.health))
        .await;
    assert_eq!(one["levels"][0]["unit"], COMMUNE);
    let audit: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'risk.decision'")
            .fetch_one(&sqlx::AnyPool::connect(&app.db_url).await.unwrap())
            .await
            .unwrap();
    assert_eq!(audit, 2, "every decision is audited");
}

async fn the_signed_decision_is_a_pdf_of_bounded_size(app: TestApp) {
    let day = today(&app).to_string();
    let d = app
        .post_json(
            "/api/v1/risk-decisions",
            Some(&app.health),
            &json!({"number": "1/QĐ-BCĐ", "date": day, "issued_by": "UBND tỉnh", "effective_from": day,
                "levels": [{"unit": COMMUNE, "level": 1}]}),
        )
        .await;
    let id = d["id"].as_i64().unwrap();
    let path = app.at(&format!("/api/v1/risk-decisions/{id}/file"));
    let upload = |body: Vec<u8>, media: &'static str| {
        app.client
            .put(&path)
            .bearer_auth(&app.health)
            .header("content-type", media)
            .header("x-file-name", "qd-1.pdf")
            .body(body)
            .send()
    };
    assert_eq!(
        upload(b"not a pdf".to_vec(), "application/pdf")
            .await
            .unwrap()
            .status(),
        422
    );
    assert_eq!(
        upload(b"%PDF-1.4".to_vec(), "text/plain")
            .await
            .unwrap()
            .status(),
        415
    );
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(10 * 1024 * 1024 + 1, b' ');
    // Refused on its Content-Length: 413, or the connection closed while the body was still being sent.
    match upload(big, "application/pdf").await {
        Ok(res) => assert_eq!(res.status(), 413),
        Err(e) => assert!(format!("{e:?}").contains("BodyWrite"), "{e:?}"),
    }
    assert_eq!(app.count("risk_decision_files").await, 0);
    // A signed copy of 2 MB is accepted and read back byte for byte.
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.resize(2 * 1024 * 1024, b'x');
    let res = upload(pdf.clone(), "application/pdf").await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let got = app
        .get(
            &format!("/api/v1/risk-decisions/{id}/file"),
            Some(&app.health),
        )
        .await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "application/pdf");
    assert_eq!(got.bytes().await.unwrap().to_vec(), pdf);
    let list = app
        .get_json("/api/v1/risk-decisions", Some(&app.health))
        .await;
    assert_eq!(list[0]["file"]["bytes"], 2 * 1024 * 1024);
    let district = app.token(Role::Health, "941").await;
    assert_eq!(
        app.get(
            &format!("/api/v1/risk-decisions/{id}/file"),
            Some(&district)
        )
        .await
        .status(),
        200,
        "a district inside the province reads its decisions"
    );
    assert_eq!(
        app.get("/api/v1/risk-decisions/999/file", Some(&app.health))
            .await
            .status(),
        404
    );
}

/// A backfilled case: F0 from the CDC feed, counted on `day`.
fn backfilled(
    citizen: &str,
    commune: &str,
    day: chrono::NaiveDate,
    detected_in: DetectedIn,
    state: CaseState,
) -> NewCase {
    NewCase {
        citizen_id: CitizenId::parse(citizen).unwrap(),
        commune_code: commune.into(),
        phone: None,
        class: CaseClass::F0,
        state,
        onset_date: None,
        sample_date: Some(day),
        isolated_date: None,
        source: CaseSource::CdcFeed,
        via: None,
        exposures: Vec::new(),
        vaccinated: true,
        quarantine_until: None,
        rule_version: "backfill".into(),
        detected_in,
        counted_on: day,
        test_days: Vec::new(),
    }
}

async fn a_backfill_imports_cases_in_bulk_that_count_for_levels_and_notify_no_one(app: TestApp) {
    let week = IsoWeek::last_full(today(&app));
    let pass = app.pass_of(0, false).await;
    let (cases, outbox) = (app.count("cases").await, app.count("outbox").await);
    // More than one multi-row statement: 1,000 community cases in one commune, 200 found in quarantine (and
    // released) in another, and a resident who holds a pass.
    let mut batch: Vec<NewCase> = (0..1200)
        .map(|i| {
            let day = week.monday() + chrono::Duration::days(i % 7);
            if i < 1000 {
                backfilled(
                    &format!("094{i:09}"),
                    COMMUNE,
                    day,
                    DetectedIn::Community,
                    CaseState::IsolatingHome,
                )
            } else {
                backfilled(
                    &format!("094{i:09}"),
                    OTHER_COMMUNE,
                    day,
                    DetectedIn::Quarantine,
                    CaseState::Released,
                )
            }
        })
        .collect();
    batch.push(backfilled(
        RESIDENTS[0].0,
        COMMUNE,
        week.sunday(),
        DetectedIn::Community,
        CaseState::IsolatingHome,
    ));
    assert_eq!(
        app.store.import_cases(&batch, "staff:cdc").await.unwrap(),
        1201
    );
    assert_eq!(app.count("cases").await, cases + 1201);
    assert_eq!(
        app.count("outbox").await,
        outbox,
        "a backfill notifies no one"
    );
    assert_ne!(
        app.verify(&pass).await["reason"],
        "revoked",
        "nor revokes a pass"
    );

    let counts = app
        .store
        .week_counts(week.monday(), week.sunday())
        .await
        .unwrap();
    let commune = kiemdich_domain::UnitCode::parse(COMMUNE).unwrap();
    let other = kiemdich_domain::UnitCode::parse(OTHER_COMMUNE).unwrap();
    assert_eq!(counts[&commune].community, 1001);
    assert_eq!(
        counts[&other].community, 0,
        "found in quarantine: not community"
    );

    // Someone with an active case again: the whole batch is refused, nothing written.
    let again = vec![
        backfilled(
            "094000009999",
            COMMUNE,
            week.monday(),
            DetectedIn::Community,
            CaseState::IsolatingHome,
        ),
        backfilled(
            RESIDENTS[0].0,
            COMMUNE,
            week.monday(),
            DetectedIn::Community,
            CaseState::IsolatingHome,
        ),
    ];
    let refused = app
        .store
        .import_cases(&again, "staff:cdc")
        .await
        .unwrap_err();
    assert!(matches!(refused, StoreError::Conflict(_)), "{refused:?}");
    assert_eq!(app.count("cases").await, cases + 1201);

    // The country at once and the province alone give the same levels (one path), the imported cases included.
    let day = week.sunday() + chrono::Duration::days(1);
    let province = kiemdich_domain::UnitCode::parse("94").unwrap();
    let country = kiemdich_server::levels_in(&app.state, Scope::Country, day)
        .await
        .unwrap();
    let alone = kiemdich_server::levels_on(&app.state, &province, day)
        .await
        .unwrap();
    assert_eq!(country, alone);
    assert_eq!(
        country[&commune].computed.map(|l| l.get()),
        Some(4),
        "1,001 community cases in a week"
    );
    assert_eq!(
        country[&province].computed.map(|l| l.get()),
        alone[&province].computed.map(|l| l.get())
    );
    assert!(
        country[&province].computed.is_some(),
        "the province's level aggregates its communes'"
    );
}
