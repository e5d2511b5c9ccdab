//! Samples, pools and results over the API: ordering and reading samples by role and jurisdiction, a PCR
//! positive opening exactly one case and stopping the pass, pools whose negative, positive and invalid results
//! have their effects, a rapid antigen positive making the person orange with a PCR ordered, an F1 sampled on
//! the rules' test days and released by a negative on the release day, every bad input refused with nothing
//! written, and the resident's own results; the laboratory's result-entry page (`/lab`, plain form posts)
//! with the same effects and each error next to its field. Both backends.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, error_fields};
use kiemdich_domain::{
    CaseClass, CaseSource, CaseState, CitizenId, DetectedIn, SampleReason, SampleStatus, TestType,
};
use kiemdich_store::{NewCase, Role};
use serde_json::{Value, json};

on_both_backends!(
    samples_are_ordered_and_read_inside_the_jurisdiction,
    a_pcr_positive_opens_exactly_one_case_and_stops_the_pass,
    pools_make_members_negative_order_resamples_or_a_retest,
    pools_refuse_too_many_members_rapid_tests_and_pooled_samples,
    bad_results_are_refused_and_nothing_is_written,
    a_rapid_antigen_positive_makes_the_person_orange_and_orders_a_pcr,
    an_f1_is_sampled_on_the_test_days_and_released_by_a_negative_on_the_last,
    the_resident_sees_their_results_with_the_lab_and_vietnam_time,
    labels_and_result_slips_print_for_staff_in_the_jurisdiction,
    a_declared_proximity_exposure_makes_the_person_yellow_and_orders_a_pcr,
    the_lab_page_shows_whose_sample_and_enters_its_result_with_its_effects,
    the_lab_page_puts_each_error_next_to_its_field_and_writes_nothing,
    the_lab_page_results_a_pool_like_the_api,
);

/// An hour ago as RFC 3339, minus `hours` more.
fn ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> (u16, Value) {
    let res = app.post(path, Some(token), &body).await;
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Orders a collected sample (collected `hours` ago) of `test_type` for resident `i`; its id.
async fn sample(app: &TestApp, token: &str, i: usize, test_type: &str, hours: i64) -> i64 {
    let (status, body) = post(
        app,
        "/api/v1/samples",
        token,
        json!({"citizen_id": RESIDENTS[i].0, "reason": "screening", "test_type": test_type,
               "collected_at": ago(hours), "collected_where": "Trạm Y tế Phường 2"}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_i64().unwrap()
}

/// Every queued message of the province.
async fn outbox(app: &TestApp) -> Vec<kiemdich_store::OutboxMessage> {
    let units = app
        .state
        .units_within(&kiemdich_domain::UnitCode::parse("94").unwrap());
    app.store.outbox(&units, 1000).await.unwrap()
}

/// Three collected PCR samples, of residents 0, 1 and 2.
async fn three(app: &TestApp, token: &str) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(sample(app, token, i, "pcr", 5).await);
    }
    ids
}

async fn result(app: &TestApp, token: &str, body: Value) -> (u16, Value) {
    post(app, "/api/v1/results", token, body).await
}

async fn samples_are_ordered_and_read_inside_the_jurisdiction(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let (status, created) = post(
        &app,
        "/api/v1/samples",
        &lab,
        json!({"citizen_id": RESIDENTS[0].0, "reason": "suspected", "test_type": "pcr"}),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["status"], "ordered");
    let label = created["label"].as_str().unwrap();
    assert!(label.starts_with("M-"), "{label}");
    let id = created["id"].as_i64().unwrap();
    assert_eq!(
        kiemdich_domain::testing::parse_label(label).unwrap().1,
        id,
        "the label reads back as the sample"
    );
    let collected = sample(&app, &app.officer, 0, "rapid_antigen", 1).await;
    let list: Value = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[0].0),
            Some(&lab),
        )
        .await;
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [collected, id], "newest first");
    assert_eq!(list[0]["status"], "collected");
    assert_eq!(list[0]["collected_where"], "Trạm Y tế Phường 2");
    let ordered: Value = app
        .get_json("/api/v1/samples?status=ordered", Some(&lab))
        .await;
    assert_eq!(ordered.as_array().unwrap().len(), 1);
    let audit = app
        .store
        .audit_entries(&format!("citizen:{}", RESIDENTS[0].0), 50)
        .await
        .unwrap();
    assert!(audit.iter().any(|a| a.action == "sample.read"));
    assert!(audit.iter().any(|a| a.action == "sample.order"));

    // A lab of another district: the person is not found; a checkpoint may not order at all.
    let far = app.token(Role::Lab, OTHER_COMMUNE).await;
    let (status, _) = post(
        &app,
        "/api/v1/samples",
        &far,
        json!({"citizen_id": RESIDENTS[0].0, "reason": "suspected", "test_type": "pcr"}),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(
        app.get(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[0].0),
            Some(&far)
        )
        .await
        .status(),
        404
    );
    let (status, _) = post(
        &app,
        "/api/v1/samples",
        &app.checkpoint,
        json!({"citizen_id": RESIDENTS[0].0, "reason": "suspected", "test_type": "pcr"}),
    )
    .await;
    assert_eq!(status, 403);
    // Every bad field at once.
    let before = app.count("samples").await;
    let (status, err) = post(
        &app,
        "/api/v1/samples",
        &lab,
        json!({"citizen_id": "12", "reason": "curious", "test_type": "blood", "collected_at": "2099-01-01 10:00"}),
    )
    .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        error_fields(&err),
        ["citizen_id", "reason", "test_type", "collected_at"]
    );
    assert_eq!(app.count("samples").await, before);
}

async fn a_pcr_positive_opens_exactly_one_case_and_stops_the_pass(app: TestApp) {
    let pass = app.pass_of(0, false).await;
    assert_eq!(app.verify(&pass).await["valid"], true);
    let lab = app.token(Role::Lab, COMMUNE).await;
    let id = sample(&app, &lab, 0, "pcr", 26).await;
    let body = json!({"sample_id": id, "result": "positive", "tested_at": ago(1), "lab": "CDC Sóc Trăng", "ct": 21.5});
    let (status, effects) = result(&app, &lab, body.clone()).await;
    assert_eq!(status, 201, "{effects}");
    let case_id = effects["case_id"].as_i64().unwrap();
    assert!(effects["result_id"].as_i64().unwrap() > 0);
    assert_eq!(effects["revoked_passes"], 1);
    assert_eq!(app.verify(&pass).await["reason"], "revoked");
    let case: Value = app
        .get_json(&format!("/api/v1/cases/{case_id}"), Some(&app.health))
        .await;
    assert_eq!(case["classification"], "f0");
    assert_eq!(case["source"], "test_result");
    // Counted on the sample's day (Vietnam time), not the result's.
    let sampled = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp() - 26 * 3600);
    assert_eq!(case["counted_on"], sampled.to_string());
    // The same result again (by label): 200, the same result and case, nothing more written.
    let (cases, queued) = (app.count("cases").await, app.count("outbox").await);
    let mut again = body.clone();
    again["sample_id"] = json!(kiemdich_domain::testing::label(
        kiemdich_domain::testing::LabelKind::Sample,
        id
    ));
    let (status, same) = result(&app, &lab, again).await;
    assert_eq!(status, 200, "{same}");
    assert_eq!(same["result_id"], effects["result_id"]);
    assert_eq!(same["case_id"], case_id);
    assert_eq!(
        (app.count("cases").await, app.count("outbox").await),
        (cases, queued)
    );
    // Another result for it: refused.
    let mut other = body.clone();
    other["result"] = json!("negative");
    let (status, err) = result(&app, &app.health, other).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["code"], "already_resulted");
    assert_eq!(app.count("cases").await, 1);
    // The person was told the result by SMS, with the lab.
    let outbox = outbox(&app).await;
    assert!(
        outbox
            .iter()
            .any(|m| m.body.contains("DƯƠNG TÍNH") && m.body.contains("CDC Sóc Trăng")),
        "{outbox:?}"
    );
    // A second positive sample of the same person joins the open case.
    let second = sample(&app, &lab, 0, "pcr", 3).await;
    let (status, joined) = result(
        &app,
        &lab,
        json!({"sample_id": second, "result": "positive", "tested_at": ago(1), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{joined}");
    assert_eq!(joined["case_id"], case_id);
    assert_eq!(app.count("cases").await, 1);
}

/// Pools the given samples as `token`; (status, body).
async fn pool(app: &TestApp, token: &str, ids: &[i64]) -> (u16, Value) {
    post(app, "/api/v1/pools", token, json!({"sample_ids": ids})).await
}

async fn pools_make_members_negative_order_resamples_or_a_retest(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let members = three(&app, &lab).await;
    let (status, created) = pool(&app, &lab, &members).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["label"].as_str().unwrap().starts_with("G-"));
    let pool_id = created["id"].as_i64().unwrap();
    // Negative: every member negative.
    let (status, effects) = result(
        &app,
        &lab,
        json!({"pool_id": pool_id, "result": "negative", "tested_at": ago(1), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    assert_eq!(effects["member_result_ids"].as_array().unwrap().len(), 3);
    let mine: Value = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[1].0),
            Some(&lab),
        )
        .await;
    assert_eq!(mine[0]["status"], "tested");
    assert_eq!(mine[0]["result"]["result"], "negative");
    assert_eq!(mine[0]["result"]["source"], "pool");
    assert_eq!(app.count("cases").await, 0);

    // Positive: every member sampled again, their commune told; no case.
    let members = three(&app, &lab).await;
    let (_, created) = pool(&app, &lab, &members).await;
    let label = created["label"].as_str().unwrap().to_owned();
    let (status, effects) = result(
        &app,
        &lab,
        json!({"pool_id": label, "result": "positive", "tested_at": ago(1), "lab": "CDC Sóc Trăng", "ct": "30"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    let resamples = effects["resample_ids"].as_array().unwrap();
    assert_eq!(resamples.len(), 3);
    assert_eq!(app.count("cases").await, 0);
    let mine: Value = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[1].0),
            Some(&lab),
        )
        .await;
    assert_eq!(mine[0]["reason"], "resample");
    assert_eq!(mine[0]["status"], "ordered");
    let outbox = outbox(&app).await;
    assert!(
        outbox
            .iter()
            .any(|m| m.channel == kiemdich_domain::OutboxChannel::Commune
                && m.body.contains(&label)
                && m.body.contains("3 người")),
        "{outbox:?}"
    );

    // Invalid: the same members pooled again for a re-test.
    let members = three(&app, &lab).await;
    let (_, created) = pool(&app, &lab, &members).await;
    let (status, effects) = result(
        &app,
        &lab,
        json!({"pool_id": created["id"], "result": "invalid", "tested_at": ago(1), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    let retest = effects["retest_pool_id"].as_i64().unwrap();
    assert_ne!(retest, created["id"].as_i64().unwrap());
    let (status, effects) = result(
        &app,
        &lab,
        json!({"pool_id": retest, "result": "negative", "tested_at": ago(0), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    assert_eq!(effects["member_result_ids"].as_array().unwrap().len(), 3);
}

async fn pools_refuse_too_many_members_rapid_tests_and_pooled_samples(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let max = app.state.rules.testing.pool_max_size as usize;
    let mut ids = Vec::new();
    for _ in 0..=max {
        ids.push(sample(&app, &lab, 0, "pcr", 2).await);
    }
    let (status, err) = pool(&app, &lab, &ids).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["code"], "too_many");
    let rapid = sample(&app, &lab, 1, "rapid_antigen", 2).await;
    let (status, err) = pool(&app, &lab, &[ids[0], rapid]).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(error_fields(&err), ["sample_ids[1]"]);
    assert_eq!(err["fields"][0]["code"], "mixed_test_types");
    let (status, _) = pool(&app, &lab, &[ids[0], ids[1]]).await;
    assert_eq!(status, 201);
    let (status, err) = pool(&app, &lab, &[ids[2], ids[1]]).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(error_fields(&err), ["sample_ids[1]"]);
    assert_eq!(err["fields"][0]["code"], "already_resulted");
    // A sample of another district, and one that does not exist.
    let far = sample(&app, &app.health, 3, "pcr", 2).await;
    let (status, err) = pool(&app, &lab, &[ids[3], far, 999_999]).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(error_fields(&err), ["sample_ids[1]", "sample_ids[2]"]);
    assert_eq!(app.count("pools").await, 1);
    // Only health, lab and admin pool.
    let (status, _) = pool(&app, &app.officer, &[ids[3], ids[4]]).await;
    assert_eq!(status, 403);
}

async fn bad_results_are_refused_and_nothing_is_written(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let id = sample(&app, &lab, 0, "pcr", 2).await;
    let (results, cases) = (app.count("results").await, app.count("cases").await);
    let bad = |body: Value| {
        let (app, lab) = (&app, lab.clone());
        async move { result(app, &lab, body).await }
    };
    // Unknown sample: 404, as one outside the jurisdiction.
    let (status, _) =
        bad(json!({"sample_id": 999_999, "result": "positive", "tested_at": ago(1), "lab": "CDC"}))
            .await;
    assert_eq!(status, 404);
    let far = app.token(Role::Lab, OTHER_COMMUNE).await;
    let (status, _) = result(
        &app,
        &far,
        json!({"sample_id": id, "result": "positive", "tested_at": ago(1), "lab": "CDC"}),
    )
    .await;
    assert_eq!(status, 404);
    // Every field wrong at once.
    let (status, err) = bad(json!({"sample_id": "M-000001-Q", "result": "maybe", "tested_at": "2099-01-01T00:00:00Z", "lab": "", "ct": 99})).await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(
        error_fields(&err),
        ["sample_id", "result", "tested_at", "lab", "ct"]
    );
    // Before the collection (two hours ago): refused.
    let (status, err) =
        bad(json!({"sample_id": id, "result": "negative", "tested_at": ago(3), "lab": "CDC"}))
            .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["code"], "before_collection");
    // Both a sample and a pool; neither.
    let (status, _) = bad(json!({"sample_id": id, "pool_id": 1, "result": "negative", "tested_at": ago(1), "lab": "CDC"})).await;
    assert_eq!(status, 422);
    let (status, _) = bad(json!({"result": "negative", "tested_at": ago(1), "lab": "CDC"})).await;
    assert_eq!(status, 422);
    // A pooled sample is resulted through its pool.
    let other = sample(&app, &lab, 1, "pcr", 2).await;
    let (status, _) = pool(&app, &lab, &[id, other]).await;
    assert_eq!(status, 201);
    let (status, err) =
        bad(json!({"sample_id": id, "result": "negative", "tested_at": ago(1), "lab": "CDC"}))
            .await;
    assert_eq!(status, 422, "{err}");
    assert_eq!(err["fields"][0]["code"], "already_resulted");
    // A checkpoint or an officer may not enter results.
    let (status, _) = result(
        &app,
        &app.officer,
        json!({"sample_id": other, "result": "negative", "tested_at": ago(1), "lab": "CDC"}),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(
        (app.count("results").await, app.count("cases").await),
        (results, cases)
    );
}

async fn a_rapid_antigen_positive_makes_the_person_orange_and_orders_a_pcr(app: TestApp) {
    let pass = app.pass_of(1, false).await;
    let id = sample(&app, &app.health, 1, "rapid_antigen", 1).await;
    let (status, effects) = result(
        &app,
        &app.health,
        json!({"sample_id": id, "result": "positive", "tested_at": ago(0), "lab": "Trạm Y tế Phường 2"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    assert!(effects.get("case_id").is_none(), "{effects}");
    assert_eq!(effects["revoked_passes"], 1);
    let pcr = effects["pcr_ordered_id"].as_i64().unwrap();
    assert_eq!(app.verify(&pass).await["reason"], "revoked");
    assert_eq!(app.count("cases").await, 0);
    // A new declaration: orange, awaiting confirmation.
    let declared = app.declare(vec![common::person(1)]).await;
    assert_eq!(declared["people"][0]["status"], "orange", "{declared}");
    // Declarations checked at the same time (read together on PostgreSQL, three people padded to four) each
    // get their own people's records.
    let (family, alone, other) = tokio::join!(
        app.declare(vec![
            common::person(0),
            common::person(1),
            common::person(3)
        ]),
        app.declare(vec![common::person(1)]),
        app.declare(vec![common::person(3)]),
    );
    let statuses = |d: &serde_json::Value| -> Vec<String> {
        d["people"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(statuses(&family), ["green", "orange", "green"], "{family}");
    assert_eq!(statuses(&alone), ["orange"], "{alone}");
    assert_eq!(statuses(&other), ["green"], "{other}");
    // The PCR ordered: negative clears it.
    let (status, _) = post(
        &app,
        "/api/v1/samples",
        &app.health,
        json!({"citizen_id": RESIDENTS[1].0, "reason": "suspected", "test_type": "pcr"}),
    )
    .await;
    assert_eq!(status, 201);
    let (status, effects) = result(
        &app,
        &app.health,
        json!({"sample_id": pcr, "result": "negative", "tested_at": ago(0), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    let declared = app.declare(vec![common::person(1)]).await;
    assert_eq!(declared["people"][0]["status"], "green", "{declared}");
}

/// What a proximity-tracing app's link leads to: the person declares the exposure (the day the phone matched)
/// and the existing rules make them yellow, with a PCR ordered on an F1's first test day; the same
/// declaration without it orders nothing and leaves them green.
async fn a_declared_proximity_exposure_makes_the_person_yellow_and_orders_a_pcr(app: TestApp) {
    let citizen = |i: usize| CitizenId::parse(RESIDENTS[i].0).unwrap();
    let declared = app.declare(vec![common::person(2)]).await;
    assert_eq!(declared["people"][0]["status"], "green", "{declared}");
    assert!(
        app.store
            .samples_of(&citizen(2), None)
            .await
            .unwrap()
            .is_empty()
    );

    let today = app
        .state
        .rules
        .dates_at(chrono::Utc::now().timestamp())
        .today;
    let exposed = today - chrono::Duration::days(2);
    let mut person = common::person(2);
    person["proximity_exposure_date"] = json!(exposed.to_string());
    let declared = app.declare(vec![person]).await;
    assert_eq!(declared["people"][0]["status"], "yellow", "{declared}");
    let samples = app.store.samples_of(&citizen(2), None).await.unwrap();
    assert_eq!(samples.len(), 1, "{samples:?}");
    let s = &samples[0];
    assert_eq!(
        (s.reason, s.test_type, s.status),
        (
            SampleReason::Suspected,
            TestType::Pcr,
            SampleStatus::Ordered
        )
    );
    let first_test_day = app.state.rules.testing.f1_test_dates(
        exposed,
        exposed + chrono::Duration::days(i64::from(app.state.rules.tracing.quarantine_days)),
        today,
    )[0];
    assert_eq!(s.due_on, Some(first_test_day));
    // Declaring the same exposure again, the order is still waiting: no second sample.
    let mut person = common::person(2);
    person["proximity_exposure_date"] = json!(exposed.to_string());
    app.declare(vec![person]).await;
    assert_eq!(
        app.store.samples_of(&citizen(2), None).await.unwrap().len(),
        1
    );
    assert!(
        app.store
            .samples_of(&citizen(3), None)
            .await
            .unwrap()
            .is_empty()
    );

    // Ticked without a day: today counts. A day in the future is refused and nothing is written.
    let mut person = common::person(3);
    person["exposures"] = json!(["proximity"]);
    let declared = app.declare(vec![person]).await;
    assert_eq!(declared["people"][0]["status"], "yellow", "{declared}");
    assert_eq!(
        app.store.samples_of(&citizen(3), None).await.unwrap().len(),
        1
    );
    let before = app.count("samples").await;
    let mut person = common::person(0);
    person["proximity_exposure_date"] = json!((today + chrono::Duration::days(3)).to_string());
    let res = app
        .post(
            "/api/v1/declarations",
            Some(&app.officer),
            &json!({"people": [person], "consent": true}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(
        error_fields(&err),
        ["people[0].proximity_exposure_date"],
        "{err}"
    );
    assert_eq!(app.count("samples").await, before);
}

/// An F1 case of resident `i`, exposed to resident 0 on `last`, quarantined until `until`, sampled on the
/// rules' test days.
fn f1(app: &TestApp, i: usize, last: chrono::NaiveDate, until: chrono::NaiveDate) -> NewCase {
    let rules = &app.state.rules;
    let today = rules.tracing.local_date(chrono::Utc::now().timestamp());
    NewCase {
        citizen_id: CitizenId::parse(RESIDENTS[i].0).unwrap(),
        commune_code: RESIDENTS[i].4.into(),
        phone: Some(RESIDENTS[i].5.into()).filter(|p: &String| !p.is_empty()),
        class: CaseClass::F1,
        state: CaseState::IsolatingHome,
        onset_date: None,
        sample_date: None,
        isolated_date: None,
        source: CaseSource::Tracing,
        via: Some(RESIDENTS[0].0.into()),
        exposures: Vec::new(),
        vaccinated: false,
        quarantine_until: Some(until),
        rule_version: "test".into(),
        detected_in: DetectedIn::Community,
        counted_on: today,
        test_days: rules.testing.f1_test_dates(last, until, today),
    }
}

async fn an_f1_is_sampled_on_the_test_days_and_released_by_a_negative_on_the_last(app: TestApp) {
    let rules = &app.state.rules;
    let today = rules.tracing.local_date(chrono::Utc::now().timestamp());
    app.confirmed_case(0, 3).await;
    // Exposed yesterday: sampled on days 1, 7 and 14 (today, in six days, on the release day).
    let day = |n: i64| today + chrono::Duration::days(n);
    app.store
        .open_cases(&[f1(&app, 1, day(-1), day(13))], "test")
        .await
        .unwrap();
    let samples: Value = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[1].0),
            Some(&app.health),
        )
        .await;
    let mut due: Vec<String> = samples
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["due_on"].as_str().unwrap().to_owned())
        .collect();
    due.sort();
    assert_eq!(due, [day(0), day(6), day(13)].map(|d| d.to_string()));
    assert!(
        samples
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["reason"] == "f1" && s["status"] == "ordered" && s["test_type"] == "pcr")
    );
    assert!(
        outbox(&app)
            .await
            .iter()
            .any(|m| m.body.contains("lịch lấy mẫu")),
        "the F1 is told the test days"
    );
    // Exposed 14 days ago, the quarantine ends today: a negative on a sample taken today ends it.
    let opened = app
        .store
        .open_cases(&[f1(&app, 3, day(-14), day(0))], "test")
        .await
        .unwrap();
    let case_id = opened[0].case_id;
    let far = app.token(Role::Lab, OTHER_COMMUNE).await;
    let id = sample(&app, &far, 3, "pcr", 0).await;
    let (status, effects) = result(
        &app,
        &far,
        json!({"sample_id": id, "result": "negative", "tested_at": ago(0), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    assert_eq!(effects["quarantine_ended_case_ids"], json!([case_id]));
    let case: Value = app
        .get_json(&format!("/api/v1/cases/{case_id}"), Some(&app.health))
        .await;
    assert_eq!(case["state"], "released");
    assert_eq!(case["active"], false);
}

async fn the_resident_sees_their_results_with_the_lab_and_vietnam_time(app: TestApp) {
    let id = sample(&app, &app.health, 0, "pcr", 3).await;
    let (status, _) = result(
        &app,
        &app.health,
        json!({"sample_id": id, "result": "negative", "tested_at": "2021-01-01T00:00:00Z", "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 422, "before the collection");
    let tested = chrono::Utc::now() - chrono::Duration::hours(1);
    let (status, _) = result(
        &app,
        &app.health,
        json!({"sample_id": id, "result": "negative", "tested_at": tested.to_rfc3339(), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201);
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine: Value = app.get_json("/api/v1/me/samples", Some(&session)).await;
    assert_eq!(mine[0]["result"]["result"], "negative");
    assert_eq!(mine[0]["result"]["result_name"], "ÂM TÍNH");
    assert_eq!(mine[0]["result"]["lab"], "CDC Sóc Trăng");
    let local = app.state.rules.clock().time(tested.timestamp());
    assert_eq!(mine[0]["result"]["tested_local"], local);
    assert_eq!(
        app.get("/api/v1/me/samples", Some(&app.health))
            .await
            .status(),
        403,
        "staff have their own list"
    );
}

async fn labels_and_result_slips_print_for_staff_in_the_jurisdiction(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let first = sample(&app, &lab, 0, "pcr", 26).await;
    let second = sample(&app, &lab, 1, "rapid_antigen", 2).await;
    let samples = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[0].0),
            Some(&lab),
        )
        .await;
    let label = samples[0]["label"].as_str().unwrap().to_owned();
    // The label's QR, read back as a phone would, is the label; the result entry takes what it reads.
    let res = app
        .get(&format!("/api/v1/samples/{first}/label.png"), Some(&lab))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
    let (read, _) = common::read_qr_png(&res.bytes().await.unwrap());
    assert_eq!(read, label);
    let (status, effects) = result(
        &app,
        &lab,
        json!({"sample_id": read, "result": "positive", "tested_at": ago(1), "lab": "CDC Sóc Trăng"}),
    )
    .await;
    assert_eq!(status, 201, "{effects}");
    // The sheet of labels: name, birth year, the sample's time in Vietnam time, the test in Vietnamese; no id.
    let audited = app.count("audit_log WHERE action = 'sample.print'").await;
    let sheet = app
        .get(&format!("/samples/labels?ids={first},{second}"), Some(&lab))
        .await
        .text()
        .await
        .unwrap();
    let collected =
        chrono::DateTime::parse_from_rfc3339(samples[0]["collected_at"].as_str().unwrap())
            .unwrap()
            .timestamp();
    for expected in [
        label.as_str(),
        RESIDENTS[0].1,
        "Năm sinh 1990",
        RESIDENTS[1].1,
        "RT-PCR",
        "test nhanh kháng nguyên",
        &app.state.rules.clock().time(collected),
        "@page{size:A4",
    ] {
        assert!(sheet.contains(expected), "{expected:?} in {sheet}");
    }
    assert_eq!(sheet.matches("class=\"label\"").count(), 2);
    assert!(!sheet.contains(RESIDENTS[0].0), "no citizen id on a label");
    // The result slip: the result in plain Vietnamese, the lab, the time, what to do next.
    let slip = app
        .get(&format!("/samples/{first}/slip"), Some(&app.officer))
        .await
        .text()
        .await
        .unwrap();
    for expected in [
        "PHIẾU TRẢ KẾT QUẢ XÉT NGHIỆM SARS-CoV-2",
        RESIDENTS[0].1,
        "DƯƠNG TÍNH",
        "CDC Sóc Trăng",
        "gọi ngay 115",
    ] {
        assert!(slip.contains(expected), "{expected:?} in {slip}");
    }
    assert!(!slip.contains(RESIDENTS[0].0), "no citizen id on the slip");
    // Officers find it from the person's health book.
    let book = app
        .get(
            &format!("/health-book/{}", RESIDENTS[0].0),
            Some(&app.officer),
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        book.contains(&format!("href=\"/samples/{first}/slip\"")),
        "{book}"
    );
    let waiting = app
        .get(&format!("/samples/{second}/slip"), Some(&lab))
        .await
        .text()
        .await
        .unwrap();
    assert!(waiting.contains("đang chờ kết quả"), "{waiting}");
    assert_eq!(
        app.count("audit_log WHERE action = 'sample.print'").await,
        audited + 3
    );
    // A pool's labels: one per member.
    let members = vec![
        sample(&app, &lab, 1, "pcr", 2).await,
        sample(&app, &lab, 2, "pcr", 2).await,
    ];
    let (status, pooled) = pool(&app, &lab, &members).await;
    assert_eq!(status, 201, "{pooled}");
    let sheet = app
        .get(
            &format!("/samples/labels?pool={}", pooled["id"]),
            Some(&lab),
        )
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(sheet.matches("class=\"label\"").count(), 2, "{sheet}");
    assert!(sheet.contains(RESIDENTS[1].1) && sheet.contains(RESIDENTS[2].1));
    // Outside the jurisdiction: no label, no slip, no name.
    let elsewhere = app.token(Role::Lab, OTHER_COMMUNE).await;
    let res = app
        .get(
            &format!("/api/v1/samples/{first}/label.png"),
            Some(&elsewhere),
        )
        .await;
    assert_eq!(res.status(), 404);
    let page = app
        .get(&format!("/samples/{first}/slip"), Some(&elsewhere))
        .await
        .text()
        .await
        .unwrap();
    assert!(!page.contains(RESIDENTS[0].1), "{page}");
    assert!(page.contains("role=\"alert\""), "{page}");
}

/// The laboratory's page as `token`: a GET with `?label=`, or the form posted; (status, HTML).
async fn lab_page(
    app: &TestApp,
    token: &str,
    form: Option<&[(&str, &str)]>,
    label: &str,
) -> (u16, String) {
    let req = match form {
        Some(form) => {
            // Encoded as a browser encodes a form (the URL's query encoder is the same).
            let mut url = reqwest::Url::parse("http://form.invalid/").unwrap();
            url.query_pairs_mut().extend_pairs(form);
            app.client
                .post(app.at("/lab"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(url.query().unwrap_or_default().to_owned())
        }
        None => app.client.get(app.at("/lab")).query(&[("label", label)]),
    };
    let res = req.bearer_auth(token).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The value of the hidden field `name` of a page.
fn hidden(page: &str, name: &str) -> String {
    let at = format!("type=\"hidden\" name=\"{name}\" value=\"");
    let start = page
        .find(&at)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + at.len();
    page[start..].split('"').next().unwrap().to_owned()
}

/// The printed label of sample `id`.
fn sample_label(id: i64) -> String {
    kiemdich_domain::testing::label(kiemdich_domain::testing::LabelKind::Sample, id)
}

fn vi(m: impl kiemdich_domain::catalogue::Message) -> &'static str {
    m.text(kiemdich_domain::catalogue::Lang::Vi)
}

async fn the_lab_page_shows_whose_sample_and_enters_its_result_with_its_effects(app: TestApp) {
    use kiemdich_domain::catalogue::Testing as T;
    let pass = app.pass_of(0, false).await;
    let lab = app.token(Role::Lab, COMMUNE).await;
    let id = sample(&app, &lab, 0, "pcr", 5).await;
    let label = sample_label(id);
    // Typed (in lower case, as a person might): whose sample it is, in Vietnamese, with its time in Vietnam time.
    let (status, page) = lab_page(&app, &lab, None, &label.to_lowercase()).await;
    assert_eq!(status, 200, "{page}");
    let collected = app
        .store
        .samples(&[id])
        .await
        .unwrap()
        .pop()
        .unwrap()
        .collected_at
        .unwrap();
    for expected in [
        RESIDENTS[0].1,
        "1990",
        "RT-PCR",
        &app.state.rules.clock().time(collected.0),
        vi(T::LabResultPositive),
        vi(T::LabResultNegative),
        vi(T::LabResultInvalid),
        "method=\"post\" action=\"/lab\"",
    ] {
        assert!(page.contains(expected), "{expected:?} in {page}");
    }
    assert!(!page.contains(RESIDENTS[0].0), "no citizen id on the page");
    // The health staff's front page and every staff page link to it.
    let front = app
        .get("/health", Some(&app.health))
        .await
        .text()
        .await
        .unwrap();
    assert!(front.contains("href=\"/lab\""));
    // A positive with its Ct: saved, a case opened, the pass stopped, the slip to print, the next label ready.
    // The form carries when the result was read, so that posting it again is the same result.
    let (results, cases) = (app.count("results").await, app.count("cases").await);
    let read_at = hidden(&page, "tested_at");
    let form = [
        ("label", label.as_str()),
        ("result", "positive"),
        ("ct", "21.5"),
        ("tested_at", read_at.as_str()),
    ];
    let (status, page) = lab_page(&app, &lab, Some(&form), "").await;
    assert_eq!(status, 200, "{page}");
    for expected in [
        vi(T::LabSaved),
        vi(T::LabCaseOpened),
        &format!("href=\"/samples/{id}/slip\""),
        "id=\"lab-label\"",
    ] {
        assert!(page.contains(expected), "{expected:?} in {page}");
    }
    assert_eq!(
        (app.count("results").await, app.count("cases").await),
        (results + 1, cases + 1)
    );
    assert_eq!(app.verify(&pass).await["reason"], "revoked");
    let stored = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={}", RESIDENTS[0].0),
            Some(&lab),
        )
        .await;
    assert_eq!(stored[0]["result"]["result"], "positive", "{stored}");
    assert_eq!(stored[0]["result"]["ct"], 21.5, "{stored}");
    // The same form again, a second later (a reload): nothing changes, and the page says so.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (status, page) = lab_page(&app, &lab, Some(&form), "").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(vi(T::LabSavedBefore)), "{page}");
    assert_eq!(
        (app.count("results").await, app.count("cases").await),
        (results + 1, cases + 1)
    );
}

async fn the_lab_page_puts_each_error_next_to_its_field_and_writes_nothing(app: TestApp) {
    use kiemdich_domain::catalogue::Problem;
    let lab = app.token(Role::Lab, COMMUNE).await;
    let id = sample(&app, &lab, 0, "pcr", 5).await;
    let label = sample_label(id);
    let (results, cases, audited) = (
        app.count("results").await,
        app.count("cases").await,
        app.count("audit_log WHERE action = 'sample.read'").await,
    );
    let unknown = format!(
        "<p class=\"field-error\" id=\"lab-label-err-0\">{}</p>",
        vi(Problem::UnknownSample)
    );
    // A label that names nothing, typed: 404, the problem under the label field, which is marked invalid.
    let (status, page) = lab_page(&app, &lab, None, "M-000000-X").await;
    assert_eq!(status, 404, "{page}");
    assert!(page.contains(&unknown), "{page}");
    assert!(
        page.contains("aria-describedby=\"lab-label-err-0\""),
        "{page}"
    );
    // A sample outside the lab's jurisdiction: the same answer, looked up or posted; nothing read or written.
    let far = app.token(Role::Lab, OTHER_COMMUNE).await;
    let (status, page) = lab_page(&app, &far, None, &label).await;
    assert_eq!(status, 404, "{page}");
    assert!(
        page.contains(&unknown) && !page.contains(RESIDENTS[0].1),
        "{page}"
    );
    let (status, page) = lab_page(
        &app,
        &far,
        Some(&[("label", &label), ("result", "positive")]),
        "",
    )
    .await;
    assert_eq!(status, 404, "{page}");
    assert!(page.contains(&unknown), "{page}");
    assert_eq!(
        app.count("audit_log WHERE action = 'sample.read'").await,
        audited
    );
    // A Ct out of range and no result picked: each under its own field.
    let (status, page) = lab_page(&app, &lab, Some(&[("label", &label), ("ct", "99")]), "").await;
    assert_eq!(status, 422, "{page}");
    assert!(page.contains("id=\"lab-ct-err-0\""), "{page}");
    assert!(page.contains("aria-describedby=\"lab-ct-err-0\""), "{page}");
    assert!(page.contains("id=\"lab-result-err-0\""), "{page}");
    assert!(
        page.contains(RESIDENTS[0].1),
        "the person stays on screen: {page}"
    );
    assert_eq!(
        (app.count("results").await, app.count("cases").await),
        (results, cases)
    );
    // Resulted negative, then posted as positive: refused next to the sample, still negative, no case.
    let (status, _) = lab_page(
        &app,
        &lab,
        Some(&[("label", &label), ("result", "negative")]),
        "",
    )
    .await;
    assert_eq!(status, 200);
    let (status, page) = lab_page(
        &app,
        &lab,
        Some(&[("label", &label), ("result", "positive")]),
        "",
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains(&format!(
            "id=\"lab-target-err-0\">{}",
            vi(Problem::AlreadyResulted)
        )),
        "{page}"
    );
    assert_eq!(
        (app.count("results").await, app.count("cases").await),
        (results + 1, cases)
    );
    // An officer may not enter results: the page asks for a lab or health account and writes nothing.
    let other = sample(&app, &lab, 1, "pcr", 5).await;
    let (status, page) = lab_page(
        &app,
        &app.officer,
        Some(&[("label", &sample_label(other)), ("result", "positive")]),
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("/api/v1/auth/login"), "{page}");
    assert_eq!(app.count("results").await, results + 1);
}

async fn the_lab_page_results_a_pool_like_the_api(app: TestApp) {
    use kiemdich_domain::catalogue::Testing as T;
    let lab = app.token(Role::Lab, COMMUNE).await;
    let ids = three(&app, &lab).await;
    let (status, created) = pool(&app, &lab, &ids).await;
    assert_eq!(status, 201, "{created}");
    let pool_label = created["label"].as_str().unwrap().to_owned();
    // The pool's label shows every member.
    let (status, page) = lab_page(&app, &lab, None, &pool_label).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(vi(T::LabPoolMembers)), "{page}");
    for person in &RESIDENTS[..3] {
        assert!(page.contains(person.1), "{} in {page}", person.1);
    }
    // A member's own label says which pool it is in; entering its result alone is refused.
    let (_, page) = lab_page(&app, &lab, None, &sample_label(ids[0])).await;
    assert!(page.contains(&pool_label), "{page}");
    let alone = [
        ("label", sample_label(ids[0])),
        ("result", "negative".into()),
    ];
    let alone: Vec<(&str, &str)> = alone.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (status, page) = lab_page(&app, &lab, Some(&alone), "").await;
    assert_eq!(status, 422, "{page}");
    // A positive pool: every member sampled again, as the API does, and a slip for each.
    let samples = app.count("samples").await;
    let (status, page) = lab_page(
        &app,
        &lab,
        Some(&[("label", &pool_label), ("result", "positive")]),
        "",
    )
    .await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains(vi(T::LabResamples)), "{page}");
    assert!(
        !page.contains(vi(T::LabCaseOpened)),
        "a pool opens no case: {page}"
    );
    for id in &ids {
        assert!(
            page.contains(&format!("href=\"/samples/{id}/slip\"")),
            "{page}"
        );
    }
    assert_eq!(app.count("samples").await, samples + 3);
}
