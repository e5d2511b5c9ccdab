//! Vaccination records over the API: recording a dose (201, 200 the same again, 409 a conflict naming what
//! differs, 422 every bad field), reading a person's doses by role and jurisdiction, the resident's own doses,
//! the records deciding the F1 quarantine, coverage from the records feeding the risk level unless an official
//! figure exists, and the store's bulk write. Both backends.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, error_fields};
use kiemdich_domain::{
    CitizenId, Country, DoseSource, IsoWeek, NewDose, Site, VaccinationLevel, VaccineProduct, Visit,
};
use kiemdich_store::{DoseOutcome, Role};
use serde_json::{Value, json};

on_both_backends!(
    doses_are_recorded_once_and_conflicts_and_bad_fields_are_refused,
    doses_are_read_by_role_inside_the_jurisdiction_and_by_the_resident,
    the_records_decide_the_f1_quarantine_and_the_list_speaks_for_people_without_one,
    coverage_from_the_records_feeds_the_risk_level_unless_an_official_figure_exists,
    a_batch_is_one_transaction_with_an_outcome_per_line,
);

fn path(i: usize) -> String {
    format!("/api/v1/residents/{}/vaccinations", RESIDENTS[i].0)
}

fn today(app: &TestApp) -> chrono::NaiveDate {
    app.state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp())
}

async fn record(app: &TestApp, token: &str, i: usize, body: Value) -> (u16, Value) {
    let res = app.post(&path(i), Some(token), &body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

async fn doses_are_recorded_once_and_conflicts_and_bad_fields_are_refused(app: TestApp) {
    let vaccinator = app.token(Role::Vaccinator, COMMUNE).await;
    let dose = json!({"product": "Vero Cell", "dose_number": 1, "date": "2021-09-01", "lot": "202107B1",
        "site": "Trạm Y tế Phường 2"});
    let (status, created) = record(&app, &vaccinator, 0, dose.clone()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["product"], "BBIBP-CorV",
        "Vero Cell is recorded as BBIBP-CorV"
    );
    assert_eq!(created["ma"], "ORG-100020693");
    assert_eq!(
        (
            created["dose_number"].as_i64(),
            created["series_doses"].as_i64()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(created["date"], "2021-09-01");
    assert_eq!(created["site"], "Trạm Y tế Phường 2");
    assert_eq!(created["country"], "VN");
    assert_eq!(created["source"], "entered");
    // The same dose again, by its EU code: unchanged.
    let mut same = dose.clone();
    same["product"] = json!("BBIBP-CorV");
    let (status, again) = record(&app, &app.health, 0, same).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(app.count("doses").await, 1);
    // The same person, product and day with another lot and dose number: 409 naming both, the stored one kept.
    let mut other = dose.clone();
    other["lot"] = json!("OTHER");
    other["dose_number"] = json!(2);
    let (status, err) = record(&app, &vaccinator, 0, other).await;
    assert_eq!(status, 409, "{err}");
    assert_eq!(err["error"], "conflict");
    assert_eq!(error_fields(&err), ["dose_number", "lot"]);
    assert_eq!(err["fields"][1]["code"], "differs_from_stored");
    assert!(
        err["fields"][1]["detail"]
            .as_str()
            .unwrap()
            .contains("202107B1")
    );
    let list: Value = app.get_json(&path(0), Some(&vaccinator)).await;
    assert_eq!(list[0]["lot"], "202107B1");

    // Every bad field at once, nothing written.
    let audit = app.count("audit_log").await;
    let (status, err) = record(
        &app,
        &vaccinator,
        0,
        json!({"product": "Sputnik Q", "dose_number": 0, "date": "2099-01-01", "country": "XX", "lot": "a\u{202E}b"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        error_fields(&err),
        ["product", "dose_number", "date", "lot", "country"]
    );
    assert_eq!(err["fields"][0]["code"], "unknown_vaccine");
    let bad = |body: Value| {
        let app = &app;
        let vaccinator = vaccinator.clone();
        async move {
            let (status, err) = record(app, &vaccinator, 2, body).await;
            assert_eq!(status, 422, "{err}");
            err
        }
    };
    let site = "Trạm Y tế";
    // A dose above the series; a dose before the person's birth (Cúc was born in 2015); a withdrawn code;
    // a dose in Vietnam without a site.
    let err =
        bad(json!({"product": "Pfizer", "dose_number": 3, "date": "2021-09-01", "site": site}))
            .await;
    assert_eq!(err["fields"][0]["code"], "dose_number");
    let err =
        bad(json!({"product": "Pfizer", "dose_number": 1, "date": "2015-01-01", "site": site}))
            .await;
    assert_eq!(err["fields"][0]["code"], "before_birth");
    let err =
        bad(json!({"product": "VLA2001", "dose_number": 1, "date": "2021-09-01", "site": site}))
            .await;
    assert!(
        err["fields"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("withdrawn")
    );
    let err = bad(json!({"product": "Pfizer", "dose_number": 1, "date": "2021-09-01"})).await;
    assert_eq!(error_fields(&err), ["site"]);
    let err =
        bad(json!({"product": "Pfizer", "dose_number": 1, "date": "2020-01-01", "site": site}))
            .await;
    assert_eq!(err["fields"][0]["code"], "date_out_of_range");
    let res = app
        .post(
            &path(2),
            Some(&vaccinator),
            &json!({"product": "Pfizer", "surprise": 1}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("doses").await, 1);
    assert_eq!(
        app.count("audit_log").await,
        audit,
        "refusals write nothing"
    );

    // A site that is one of the system's locations: by id, inside the jurisdiction only.
    let station = app.location("health_facility", COMMUNE).await;
    let elsewhere = app.location("health_facility", OTHER_COMMUNE).await;
    let (status, err) = record(
        &app,
        &vaccinator,
        1,
        json!({"product": "Pfizer", "dose_number": 1, "date": "2021-10-15", "location_id": elsewhere}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(error_fields(&err), ["location_id"]);
    let (status, err) = record(
        &app,
        &vaccinator,
        1,
        json!({"product": "Pfizer", "dose_number": 1, "date": "2021-10-15", "location_id": 999_999}),
    )
    .await;
    assert_eq!((status, error_fields(&err)), (422, vec!["location_id"]));
    let (status, created) = record(
        &app,
        &vaccinator,
        1,
        json!({"product": "Comirnaty", "dose_number": 1, "date": "2021-10-15", "location_id": station}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["site"], "Chốt health_facility");
    assert_eq!(created["site_location_id"], station);
    // Abroad, the site may be unknown.
    let (status, created) = record(
        &app,
        &vaccinator,
        1,
        json!({"product": "Moderna", "dose_number": 2, "series_doses": 2, "date": "2021-11-20", "country": "fr"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        (created["country"].as_str(), created["site"].as_str()),
        (Some("FR"), None)
    );
}

async fn doses_are_read_by_role_inside_the_jurisdiction_and_by_the_resident(app: TestApp) {
    let vaccinator = app.token(Role::Vaccinator, COMMUNE).await;
    let (status, _) = record(
        &app,
        &app.health,
        0,
        json!({"product": "AstraZeneca", "dose_number": 1, "date": "2021-08-10", "lot": "ABV5300", "site": "Trạm Y tế Phường 2"}),
    )
    .await;
    assert_eq!(status, 201);
    // Exactly the seven fields every client reads, and more.
    for token in [&app.health, &app.officer, &vaccinator, &app.admin] {
        let res = app.get(&path(0), Some(token)).await;
        assert_eq!(res.status(), 200);
        let list: Value = res.json().await.unwrap();
        let d = &list.as_array().unwrap()[0];
        for key in [
            "product",
            "dose_number",
            "series_doses",
            "date",
            "lot",
            "site",
            "country",
        ] {
            assert!(d.get(key).is_some(), "{key} in {d}");
        }
        assert_eq!(d["product"], "EU/1/21/1529");
        assert_eq!(d["lot"], "ABV5300");
    }
    // Roles without the right, outside the jurisdiction, unknown or malformed ids.
    assert_eq!(app.get(&path(0), Some(&app.checkpoint)).await.status(), 403);
    let far = app.token(Role::Vaccinator, OTHER_COMMUNE).await;
    assert_eq!(app.get(&path(0), Some(&far)).await.status(), 404);
    let (status, _) = record(
        &app,
        &far,
        0,
        json!({"product": "Pfizer", "dose_number": 1, "date": "2021-09-01", "site": "x"}),
    )
    .await;
    assert_eq!(
        status, 404,
        "a person outside the jurisdiction is not found"
    );
    let (status, _) = record(
        &app,
        &app.officer,
        0,
        json!({"product": "Pfizer", "dose_number": 1, "date": "2021-09-01", "site": "x"}),
    )
    .await;
    assert_eq!(status, 403, "officers read doses, they do not record them");
    assert_eq!(
        app.get(
            "/api/v1/residents/094090999999/vaccinations",
            Some(&app.health)
        )
        .await
        .status(),
        404
    );
    assert_eq!(
        app.get("/api/v1/residents/12/vaccinations", Some(&app.health))
            .await
            .status(),
        422
    );
    assert_eq!(app.get(&path(0), None).await.status(), 401);
    let audit = app
        .store
        .audit_entries(&format!("citizen:{}", RESIDENTS[0].0), 50)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "vaccination.read"));
    assert!(audit.iter().any(|a| a.action == "vaccination.record"));

    // The resident sees their own doses, on the API and on their page (Vietnamese, dd/mm/yyyy).
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine: Value = app
        .get_json("/api/v1/me/vaccinations", Some(&session))
        .await;
    assert_eq!(mine[0]["product_name"], "AstraZeneca");
    assert_eq!(mine[0]["date"], "2021-08-10");
    let me: Value = app.get_json("/api/v1/me", Some(&session)).await;
    assert_eq!(me["vaccination"]["level"], "partial");
    assert_eq!(me["vaccination"]["doses"], 1);
    let page = app
        .get_with("/", "cookie", &format!("kd_session={session}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Các mũi tiêm của tôi"), "{page}");
    assert!(page.contains("10/08/2021"));
    assert_eq!(
        app.get("/api/v1/me/vaccinations", Some(&app.health))
            .await
            .status(),
        403
    );
    // The staff page finds the person and offers the form; officers see doses on their person view.
    let staff = app
        .client
        .get(app.at("/vaccination?q=Nguyễn Văn An"))
        .bearer_auth(&vaccinator)
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200);
    let staff = staff.text().await.unwrap();
    assert!(
        staff.contains("ABV5300") && staff.contains("Ghi mũi tiêm"),
        "{staff}"
    );
    assert!(
        staff.contains("Vero Cell (Sinopharm)"),
        "the vaccine picker"
    );
    let officer = app
        .client
        .get(app.at(&format!("/officer?q={}", RESIDENTS[0].0)))
        .bearer_auth(&app.officer)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(officer.contains("ABV5300"), "{officer}");
}

/// An (0) is an F0 at a market; Bé (1), Cúc (2) and Thạch (3) each share 30 minutes with her there, five days
/// ago. Bé is fully vaccinated by her records, Thạch has one dose recorded, Cúc none.
async fn the_records_decide_the_f1_quarantine_and_the_list_speaks_for_people_without_one(
    app: TestApp,
) {
    let market = app.location("market", COMMUNE).await;
    let rules = &app.state.rules.tracing;
    let day = today(&app) - chrono::Duration::days(5);
    let t0 = rules.day_start(day) + 8 * 3600;
    let visit = |who: usize, from: i64, to: i64| Visit {
        location_id: market,
        citizen: RESIDENTS[who].0.parse().unwrap(),
        entered_at: t0 + from * 60,
        exited_at: Some(t0 + to * 60),
    };
    let visits = [
        visit(0, 0, 60),
        visit(1, 30, 90),
        visit(2, 30, 90),
        visit(3, 30, 90),
    ];
    app.store.import_visits(&visits).await.unwrap();
    for (who, product, n, date) in [
        (1, "Pfizer", 1, "2021-09-01"),
        (1, "Pfizer", 2, "2021-09-22"),
        (3, "AstraZeneca", 1, "2021-09-01"),
    ] {
        let (status, v) = record(
            &app,
            &app.health,
            who,
            json!({"product": product, "dose_number": n, "date": date, "site": "Trạm Y tế"}),
        )
        .await;
        assert_eq!(status, 201, "{v}");
    }
    let case = app
        .post_json(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[0].0, "onset": day.to_string()}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    let trace = app
        .post_json(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&app.health),
            &json!({"depth": 1}),
        )
        .await;
    assert_eq!(trace["contacts"].as_array().unwrap().len(), 3, "{trace}");
    // Cúc (no record) and Thạch (a record that is not a full series) are said to be vaccinated.
    let res = app
        .post(
            &format!("/api/v1/cases/{id}/confirm"),
            Some(&app.health),
            &json!({"trace_id": trace["trace_id"], "vaccinated": [RESIDENTS[2].0, RESIDENTS[3].0]}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let confirmed: Value = res.json().await.unwrap();
    let quarantine = |who: usize| {
        let opened = confirmed["confirmed"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["citizen_id"] == RESIDENTS[who].0)
            .unwrap()
            .clone();
        let app = &app;
        async move {
            let case: Value = app
                .get_json(
                    &format!("/api/v1/cases/{}", opened["case_id"]),
                    Some(&app.health),
                )
                .await;
            (
                case["vaccinated"].as_bool().unwrap(),
                case["quarantine_until"].as_str().unwrap().to_owned(),
            )
        }
    };
    let (short, long) = (
        (day + chrono::Duration::days(7)).to_string(),
        (day + chrono::Duration::days(14)).to_string(),
    );
    assert_eq!(
        quarantine(1).await,
        (true, short.clone()),
        "the records say Bé is fully vaccinated"
    );
    assert_eq!(
        quarantine(2).await,
        (true, short),
        "no record: the list speaks for Cúc"
    );
    assert_eq!(
        quarantine(3).await,
        (false, long),
        "the records win over the list for Thạch"
    );
}

async fn coverage_from_the_records_feeds_the_risk_level_unless_an_official_figure_exists(
    app: TestApp,
) {
    let week = IsoWeek::last_full(today(&app));
    let level_path = format!("/api/v1/risk-levels?unit={COMMUNE}&week={week}");
    let criterion = |v: &Value, measure: &str| -> Option<Value> {
        v["computed"]["criteria"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["measure"] == measure)
            .cloned()
    };
    let before: Value = app.get_json(&level_path, Some(&app.health)).await;
    // In COMMUNE: An (adult) gets one dose, Bé (adult) a full series, Cúc (a child) none.
    for (who, n, date) in [
        (0, 1, "2021-09-01"),
        (1, 1, "2021-09-01"),
        (1, 2, "2021-09-22"),
    ] {
        let (status, v) = record(
            &app,
            &app.health,
            who,
            json!({"product": "Pfizer", "dose_number": n, "date": date, "site": "Trạm Y tế"}),
        )
        .await;
        assert_eq!(status, 201, "{v}");
    }
    let coverage = app
        .store
        .coverage(
            &[COMMUNE.to_owned(), OTHER_COMMUNE.to_owned()],
            &app.state.rules.vaccination,
            week.sunday(),
        )
        .await
        .unwrap();
    let c = coverage[COMMUNE];
    assert_eq!(
        (c.people, c.adults, c.adults_one_dose, c.fully_vaccinated),
        (3, 2, 2, 1)
    );
    assert_eq!(c.adult_first_dose_pct(), Some(100.0));
    assert_eq!(coverage[OTHER_COMMUNE].one_dose, 0);
    let expected = [
        ("adult_first_dose_pct", 100.0),
        ("population_full_pct", 100.0 / 3.0),
    ];
    let after: Value = app.get_json(&level_path, Some(&app.health)).await;
    let mut seen = 0;
    for (measure, value) in expected {
        if let Some(c) = criterion(&after, measure) {
            seen += 1;
            assert!(
                (c["value"].as_f64().unwrap() - value).abs() < 0.01,
                "{measure}: {after}"
            );
            assert!(
                criterion(&before, measure).unwrap()["value"].is_null(),
                "no records, no data"
            );
        }
    }
    assert!(seen > 0, "the rule set reads a coverage criterion: {after}");
    // No record in the other commune: still no data, never 0%.
    let other: Value = app
        .get_json(
            &format!("/api/v1/risk-levels?unit={OTHER_COMMUNE}&week={week}"),
            Some(&app.health),
        )
        .await;
    for (measure, _) in expected {
        if let Some(c) = criterion(&other, measure) {
            assert!(c["value"].is_null(), "{other}");
        }
    }
    // An official figure for the commune and week wins over the records.
    let figures = json!({"figures": [
        {"figure": "population_full_pct", "period": week.to_string(), "value": 61, "source": "CDC Sóc Trăng"},
        {"figure": "adult_first_dose_pct", "period": week.to_string(), "value": 61, "source": "CDC Sóc Trăng"}]});
    let res = app
        .client
        .put(app.at(&format!("/api/v1/units/{COMMUNE}/figures")))
        .bearer_auth(&app.health)
        .json(&figures)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let official: Value = app.get_json(&level_path, Some(&app.health)).await;
    for (measure, _) in expected {
        if let Some(c) = criterion(&official, measure) {
            assert_eq!(c["value"].as_f64(), Some(61.0), "{official}");
        }
    }
    // Other readers group the doses by person: the column names and ISO dates hold on both backends.
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let rows: Vec<(String, i64, String)> = sqlx::query_as(
        "SELECT citizen_id, COUNT(*), MAX(date) FROM doses GROUP BY citizen_id ORDER BY citizen_id",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert_eq!(
        rows,
        [
            (RESIDENTS[0].0.to_owned(), 1, "2021-09-01".to_owned()),
            (RESIDENTS[1].0.to_owned(), 2, "2021-09-22".to_owned())
        ]
    );
}

fn new_dose(i: usize, product: &str, n: u8, date: &str, lot: &str) -> NewDose {
    let product = VaccineProduct::parse(product).unwrap();
    NewDose {
        citizen: CitizenId::parse(RESIDENTS[i].0).unwrap(),
        product,
        dose_number: n,
        series_doses: product.series_doses(),
        date: date.parse().unwrap(),
        lot: Some(lot.to_owned()),
        site: Some(Site::Facility {
            name: "Trạm Y tế".into(),
            unit: None,
        }),
        country: Country::vietnam(),
        source: DoseSource::Fhir,
    }
}

async fn a_batch_is_one_transaction_with_an_outcome_per_line(app: TestApp) {
    let first = [new_dose(0, "Pfizer", 1, "2021-09-01", "A")];
    assert_eq!(
        app.store.record_doses(&first, "test").await.unwrap(),
        [DoseOutcome::Inserted]
    );
    let batch = [
        new_dose(0, "Pfizer", 1, "2021-09-01", "A"),
        new_dose(0, "Pfizer", 1, "2021-09-01", "B"),
        new_dose(1, "Moderna", 1, "2021-09-01", "C"),
        new_dose(1, "Spikevax", 1, "2021-09-01", "C"),
        new_dose(1, "Moderna", 2, "2021-09-01", "C"),
        new_dose(1, "Moderna", 2, "2021-10-01", "D"),
    ];
    let out = app.store.record_doses(&batch, "fhir:test").await.unwrap();
    assert_eq!(out[0], DoseOutcome::Unchanged);
    match &out[1] {
        DoseOutcome::Conflict { differs, stored } => {
            assert_eq!(differs, &["lot"]);
            assert_eq!(stored.lot.as_deref(), Some("A"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(out[2], DoseOutcome::Inserted);
    assert_eq!(out[3], DoseOutcome::Unchanged, "a repeat inside the batch");
    assert!(
        matches!(&out[4], DoseOutcome::Conflict { differs, .. } if differs == &["dose_number"])
    );
    assert_eq!(out[5], DoseOutcome::Inserted);
    assert_eq!(app.count("doses").await, 3);
    // All or nothing: one conflict and the new dose beside it is not written either.
    let bundle = [
        new_dose(3, "Pfizer", 1, "2021-12-01", "E"),
        new_dose(0, "Pfizer", 1, "2021-09-01", "Z"),
    ];
    let out = app
        .store
        .record_doses_all_or_nothing(&bundle, "fhir:test")
        .await
        .unwrap();
    assert_eq!(out[0], DoseOutcome::Inserted, "would have been inserted");
    assert!(matches!(out[1], DoseOutcome::Conflict { .. }));
    assert_eq!(app.count("doses").await, 3, "nothing written");
    let out = app
        .store
        .record_doses_all_or_nothing(&bundle[..1], "fhir:test")
        .await
        .unwrap();
    assert_eq!(out, [DoseOutcome::Inserted]);
    assert_eq!(app.count("doses").await, 4);
    let states = app
        .store
        .vaccination_states(
            &[
                CitizenId::parse(RESIDENTS[1].0).unwrap(),
                CitizenId::parse(RESIDENTS[2].0).unwrap(),
            ],
            &app.state.rules.vaccination,
            today(&app),
        )
        .await
        .unwrap();
    let be = &states[&CitizenId::parse(RESIDENTS[1].0).unwrap()];
    assert_eq!((be.level, be.doses), (VaccinationLevel::Full, 2));
    assert_eq!(be.last_dose, Some("2021-10-01".parse().unwrap()));
    assert_eq!(
        states[&CitizenId::parse(RESIDENTS[2].0).unwrap()].level,
        VaccinationLevel::None
    );
    let doses = app
        .store
        .doses_of(&CitizenId::parse(RESIDENTS[1].0).unwrap())
        .await
        .unwrap();
    assert_eq!(doses[0].source, DoseSource::Fhir);
    assert_eq!(doses[0].recorded_by, "fhir:test");

    // A large batch: thousands of people, one transaction.
    let ids: Vec<String> = (0..3000).map(|i| format!("0940900{i:05}")).collect();
    let many: Vec<NewDose> = ids
        .iter()
        .map(|id| NewDose {
            citizen: CitizenId::parse(id).unwrap(),
            ..new_dose(0, "Vero Cell", 1, "2021-08-01", "L")
        })
        .collect();
    let out = app.store.record_doses(&many, "test").await.unwrap();
    assert!(out.iter().all(|o| *o == DoseOutcome::Inserted));
    let again = app.store.record_doses(&many, "test").await.unwrap();
    assert!(again.iter().all(|o| *o == DoseOutcome::Unchanged));
    assert_eq!(app.count("doses").await, 3004);
}
