//! The security review's findings (issue 8), one scenario each, on both backends: each failed before its fix.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, masked, person};
use kiemdich_store::Role;
use serde_json::{Value, json};

on_both_backends!(
    outbox_lists_only_its_jurisdiction_and_never_a_code,
    officers_declare_by_the_registry_commune_or_on_an_attested_document,
    declaration_answers_leak_no_status_and_no_registry_detail,
    residents_declare_only_for_their_household,
    parallel_wrong_guesses_are_evaluated_at_most_five_times,
    audit_reads_obey_jurisdiction,
    a_location_name_cannot_break_the_scanner_page,
    a_contact_across_the_border_belongs_to_their_home_commune,
    wrong_passwords_are_throttled_per_account,
    code_sends_are_limited_per_address,
    a_device_signs_in_with_a_session_not_its_token,
    dates_text_and_lists_are_bounded,
    a_rotated_key_stops_signing_and_a_changed_pass_is_refused,
    retention_purges_traces_notices_and_spent_codes,
);

/// Another commune of district 941, beside [`COMMUNE`].
const NEIGHBOUR: &str = "31501";

async fn status(res: reqwest::Response) -> (u16, Value) {
    let code = res.status().as_u16();
    (code, res.json().await.unwrap_or(Value::Null))
}

async fn live_pass_of(app: &TestApp, citizen: &str) -> Option<String> {
    app.store
        .latest_pass(citizen)
        .await
        .unwrap()
        .filter(|p| p.revoked_at.is_none())
        .map(|p| p.id)
}

async fn outbox_of(app: &TestApp, admin: &str) -> Vec<Value> {
    app.get_json("/api/v1/outbox", Some(admin))
        .await
        .as_array()
        .unwrap()
        .clone()
}

/// Finding 1: a commune admin read a code sent to a resident of another district.
async fn outbox_lists_only_its_jurisdiction_and_never_a_code(app: TestApp) {
    for i in [0, 3] {
        let res = app
            .post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[i].0}))
            .await;
        assert_eq!(res.status(), 202);
    }
    let codes = [
        app.sent_code(RESIDENTS[0].5).await,
        app.sent_code(RESIDENTS[3].5).await,
    ];
    let commune_admin = app.token(Role::Admin, COMMUNE).await;
    let mine = outbox_of(&app, &commune_admin).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["recipient"], masked(RESIDENTS[0].5));
    let all = outbox_of(&app, &app.admin).await;
    assert_eq!(all.len(), 2, "the province admin sees both messages");
    let text = serde_json::to_string(&all).unwrap();
    for (code, i) in codes.iter().zip([0, 3]) {
        assert!(!text.contains(code.as_str()), "a code is listed: {text}");
        assert!(
            !text.contains(RESIDENTS[i].5),
            "a full phone number is listed"
        );
    }
    // Once sent, nothing readable of a code is left in the database.
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    for code in &codes {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM outbox WHERE body LIKE '%{code}%'"
        )))
        .fetch_one(&db)
        .await
        .unwrap();
        assert_eq!(n, 0, "code {code} is still stored");
    }
}

/// Finding 2: a commune officer wrote their own commune and got a pass for a resident of another district.
async fn officers_declare_by_the_registry_commune_or_on_an_attested_document(app: TestApp) {
    let victim_pass = app.pass_of(3, false).await;
    let here = app.token(Role::Officer, COMMUNE).await;
    let mut p = person(3);
    p["commune_code"] = json!(COMMUNE);
    let body = json!({"people": [p], "consent": true});
    let (code, err) = status(app.post("/api/v1/declarations", Some(&here), &body).await).await;
    assert_eq!(code, 403, "{err}");
    assert_eq!(
        err["fields"][0]["field"],
        "people[0].identity_document_checked"
    );
    assert_eq!(
        app.verify(&victim_pass).await["valid"],
        true,
        "nothing superseded"
    );

    // The person lives here now: the officer checked their document and says so.
    p["identity_document_checked"] = json!(true);
    let body = json!({"people": [p], "consent": true});
    let (code, answer) = status(app.post("/api/v1/declarations", Some(&here), &body).await).await;
    assert_eq!(code, 201, "{answer}");
    assert_eq!(answer["people"][0]["identity_check"], "matched");
    let id = answer["declaration_id"].as_i64().unwrap();
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    let attested: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT attested FROM declaration_people WHERE declaration_id = {id}"
    )))
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(attested, 1);
    // The person is told which officer of which commune declared for them.
    let told = app.store.notices_for(RESIDENTS[3].0, 10).await.unwrap();
    assert!(told.iter().any(|n| n.body.contains("Phường 5")), "{told:?}");
    // The registry commune's officers can read it; an officer of a third commune cannot.
    let home = app.token(Role::Officer, OTHER_COMMUNE).await;
    let path = format!("/api/v1/declarations/{id}");
    assert_eq!(app.get(&path, Some(&home)).await.status(), 200);
    assert_eq!(app.get(&path, Some(&here)).await.status(), 200);
    let third = app.token(Role::Officer, NEIGHBOUR).await;
    assert_eq!(app.get(&path, Some(&third)).await.status(), 404);

    // Neither commune in the jurisdiction: refused whatever is attested.
    let (code, _) = status(app.post("/api/v1/declarations", Some(&third), &body).await).await;
    assert_eq!(code, 403);
}

/// Opens an F0 case for resident `i` with onset today (as the province health officer); returns its id.
async fn open_case_of(app: &TestApp, i: usize) -> i64 {
    let res = app
        .post(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[i].0, "onset": chrono::Utc::now().date_naive().to_string()}),
        )
        .await;
    assert_eq!(res.status(), 201);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Finding 3: `status` came from the active case even on a mismatch, and `mismatched_fields` told anyone
/// which of name and birth date were right.
async fn declaration_answers_leak_no_status_and_no_registry_detail(app: TestApp) {
    open_case_of(&app, 3).await;
    let mut wrong = person(3);
    wrong["full_name"] = json!("Trần Văn Khác");
    // Staff of the registry commune learn which field differs, and nothing of the health status.
    let answer = app.declare(vec![wrong.clone()]).await;
    let p = &answer["people"][0];
    assert_eq!(p["identity_check"], "mismatch");
    assert_eq!(p["mismatched_fields"], json!(["full_name"]));
    assert_eq!((&p["status"], &p["pass"]), (&Value::Null, &Value::Null));
    // An officer who declares on an attested document, outside the registry commune, learns no detail.
    let here = app.token(Role::Officer, COMMUNE).await;
    wrong["commune_code"] = json!(COMMUNE);
    wrong["identity_document_checked"] = json!(true);
    let answer = app
        .post_json(
            "/api/v1/declarations",
            Some(&here),
            &json!({"people": [wrong], "consent": true}),
        )
        .await;
    assert_eq!(answer["people"][0]["mismatched_fields"], json!([]));
    assert_eq!(answer["people"][0]["status"], Value::Null);
    // A resident gets one plain message.
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut me = person(0);
    me["date_of_birth"] = json!("1990-05-18");
    let answer = app
        .post_json(
            "/api/v1/declarations",
            Some(&session),
            &json!({"people": [me], "consent": true}),
        )
        .await;
    let p = &answer["people"][0];
    assert!(p.get("mismatched_fields").is_none(), "{p}");
    assert_eq!(
        p["message"],
        "Thông tin không khớp với dữ liệu dân cư; cán bộ xã có thể giúp bạn."
    );
}

/// Finding 4: a resident declared an unrelated citizen and superseded their pass.
async fn residents_declare_only_for_their_household(app: TestApp) {
    let stranger_pass = live_pass_of_declared(&app, 3).await;
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let declarations = app.count("declarations").await;
    let (code, err) = status(
        app.post(
            "/api/v1/declarations",
            Some(&session),
            &json!({"people": [person(0), person(3)], "consent": true}),
        )
        .await,
    )
    .await;
    assert_eq!(code, 403, "{err}");
    assert_eq!(err["fields"][0]["field"], "people[1].citizen_id");
    assert_eq!(app.count("declarations").await, declarations);
    assert_eq!(
        live_pass_of(&app, RESIDENTS[3].0).await,
        Some(stranger_pass)
    );
    // Husband, wife and daughter share a household in the registry.
    let (code, answer) = status(
        app.post(
            "/api/v1/declarations",
            Some(&session),
            &json!({"people": [person(0), person(1), person(2)], "consent": true}),
        )
        .await,
    )
    .await;
    assert_eq!(code, 201, "{answer}");
}

async fn live_pass_of_declared(app: &TestApp, i: usize) -> String {
    app.pass_of(i, false).await;
    live_pass_of(app, RESIDENTS[i].0).await.unwrap()
}

/// Finding 5: 100 guesses released together were each evaluated 8 to 99 times instead of 5.
async fn parallel_wrong_guesses_are_evaluated_at_most_five_times(app: TestApp) {
    let challenge: Value = app
        .post_json("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
        .await;
    let code = app.sent_code(RESIDENTS[0].5).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let id = challenge["challenge_id"].clone();
    let guesses = (0..100).map(|_| {
        let app_url = app.at("/api/v1/auth/resident");
        let client = app.client.clone();
        let body = json!({"challenge_id": id, "code": wrong});
        tokio::spawn(async move {
            let res = client.post(app_url).json(&body).send().await.unwrap();
            res.text().await.unwrap()
        })
    });
    let answers: Vec<String> = futures_join(guesses.collect()).await;
    let evaluated = answers
        .iter()
        .filter(|a| a.contains("attempts left"))
        .count();
    assert!(evaluated <= 5, "{evaluated} guesses were evaluated");
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    let attempts: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT attempts FROM otp_challenges WHERE id = {id}"
    )))
    .fetch_one(&db)
    .await
    .unwrap();
    assert!(attempts <= 5, "{attempts}");
    let res = app
        .post(
            "/api/v1/auth/resident",
            None,
            &json!({"challenge_id": id, "code": code}),
        )
        .await;
    assert_ne!(res.status(), 200, "the right code is refused afterwards");
}

async fn futures_join(handles: Vec<tokio::task::JoinHandle<String>>) -> Vec<String> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

/// Finding 6: a commune admin read `case.open … f0` about a citizen of another district.
async fn audit_reads_obey_jurisdiction(app: TestApp) {
    let case = open_case_of(&app, 3).await;
    let commune_admin = app.token(Role::Admin, COMMUNE).await;
    for subject in [
        format!("citizen:{}", RESIDENTS[3].0),
        format!("case:{case}"),
        format!("unit:{OTHER_COMMUNE}"),
        "key:anything".to_owned(),
    ] {
        let path = format!("/api/v1/audit?subject={subject}");
        assert_eq!(
            app.get(&path, Some(&commune_admin)).await.status(),
            404,
            "{subject}"
        );
    }
    let path = format!("/api/v1/audit?subject=citizen:{}", RESIDENTS[3].0);
    let log: Value = app.get_json(&path, Some(&app.admin)).await;
    assert!(
        log["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "case.open"),
        "{log}"
    );
    let path = format!("/api/v1/audit?subject=citizen:{}", RESIDENTS[0].0);
    assert_eq!(app.get(&path, Some(&commune_admin)).await.status(), 200);
}

/// Finding 7: a venue named `<!--<script>` swallowed the rest of the scanner page.
async fn a_location_name_cannot_break_the_scanner_page(app: TestApp) {
    let name = "Chợ <!--<script> & </script>";
    let body = json!({"name": name, "kind": "market", "commune_code": COMMUNE, "address": "QL1A", "lat": 9.6, "lon": 105.97});
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &body)
        .await;
    assert_eq!(res.status(), 201);
    let page = app
        .get("/scan", Some(&app.checkpoint))
        .await
        .text()
        .await
        .unwrap();
    let start = page.find(r#"id="scan-config">"#).unwrap();
    let config = &page[start..];
    let end = config.find("</script>").unwrap();
    assert!(!config[..end].contains("<!--"), "{}", &config[..end]);
    assert!(
        config[end..].contains(r#"id="net""#),
        "the page goes on after the data"
    );
}

/// Finding 8: tracing crosses borders; the contact's case belongs to their home commune, which is told, and
/// the confirming officer keeps sight of what they created.
async fn a_contact_across_the_border_belongs_to_their_home_commune(app: TestApp) {
    let market = app.location("market", COMMUNE).await;
    let rules = &app.state.rules.tracing;
    let day = rules.local_date(chrono::Utc::now().timestamp()) - chrono::Duration::days(3);
    let t0 = rules.day_start(day) + 8 * 3600;
    let visit = |i: usize, to: i64| kiemdich_domain::Visit {
        location_id: market,
        citizen: RESIDENTS[i].0.parse().unwrap(),
        entered_at: t0,
        exited_at: Some(t0 + to * 60),
    };
    app.store
        .import_visits(&[visit(0, 60), visit(3, 45)])
        .await
        .unwrap();
    let tracer = app.token(Role::Health, COMMUNE).await;
    let case = app
        .post_json(
            "/api/v1/cases",
            Some(&tracer),
            &json!({"citizen_id": RESIDENTS[0].0, "onset": day.to_string()}),
        )
        .await;
    let id = case["id"].as_i64().unwrap();
    let trace = app
        .post_json(
            &format!("/api/v1/cases/{id}/trace"),
            Some(&tracer),
            &json!({}),
        )
        .await;
    assert_eq!(trace["contacts"][0]["citizen_id"], RESIDENTS[3].0);
    let confirmed = app
        .post_json(
            &format!("/api/v1/cases/{id}/confirm"),
            Some(&tracer),
            &json!({"trace_id": trace["trace_id"]}),
        )
        .await;
    let f1 = confirmed["confirmed"][0]["case_id"].as_i64().unwrap();
    let path = format!("/api/v1/cases/{f1}");
    let record = app.get_json(&path, Some(&tracer)).await;
    assert_eq!(record["commune_code"], OTHER_COMMUNE, "home commune");
    assert!(record["created_by"].as_str().unwrap().starts_with("token:"));
    let home_health = app.token(Role::Health, OTHER_COMMUNE).await;
    assert_eq!(app.get(&path, Some(&home_health)).await.status(), 200);
    let other_tracer = app.token(Role::Health, NEIGHBOUR).await;
    assert_eq!(app.get(&path, Some(&other_tracer)).await.status(), 404);
    let home_admin = app.token(Role::Admin, OTHER_COMMUNE).await;
    assert!(
        outbox_of(&app, &home_admin)
            .await
            .iter()
            .any(|m| m["channel"] == "commune" && m["recipient"] == OTHER_COMMUNE),
        "the home commune is told"
    );
    let follow_ups = app.get_json("/api/v1/follow-ups", Some(&home_health)).await;
    assert!(
        follow_ups.to_string().contains(&f1.to_string()),
        "the home commune follows up: {follow_ups}"
    );
}

async fn login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"username": username, "password": password}),
    )
    .await
}

/// Login had no throttle: 60 wrong passwords in 1.1 s, then the right one worked.
async fn wrong_passwords_are_throttled_per_account(app: TestApp) {
    let password = "a long enough password";
    let res = app
        .post(
            "/api/v1/staff",
            Some(&app.admin),
            &json!({"username": "lan", "password": password, "role": "officer", "unit_code": COMMUNE}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let free = app.state.rules.security.free_failures;
    for _ in 0..free {
        assert_eq!(login(&app, "lan", "wrong").await.status(), 401);
    }
    assert_eq!(login(&app, "lan", "wrong").await.status(), 401);
    let res = login(&app, "lan", password).await;
    assert_eq!(res.status(), 429, "even the right password waits");
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(wait >= 1, "{wait}");
    // Another account is not held back, and an unknown name answers like a wrong password.
    let (code, err) = status(login(&app, "nobody", "wrong").await).await;
    assert_eq!(
        (code, err["message"].as_str()),
        (401, Some("Sai tên đăng nhập hoặc mật khẩu."))
    );
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    assert_eq!(login(&app, "lan", password).await.status(), 200);
}

/// One-time codes had no per-address or global limit on sends.
async fn code_sends_are_limited_per_address(app: TestApp) {
    let limit = app.state.rules.security.otp_sends_per_address_per_hour;
    let mut statuses = std::collections::BTreeMap::new();
    for i in 0..=limit {
        // Made-up ids: each is answered alike, and each counts against the address.
        let id = format!("094090{:06}", 900_000 + i);
        let code = app
            .post("/api/v1/otp", None, &json!({"citizen_id": id}))
            .await
            .status()
            .as_u16();
        *statuses.entry(code).or_insert(0) += 1;
    }
    assert_eq!(
        statuses,
        [(202, limit), (429, 1)].into_iter().collect(),
        "the last send over the limit is refused"
    );
}

/// Device sign-in stored the long-lived device token itself in a one-year cookie.
async fn a_device_signs_in_with_a_session_not_its_token(app: TestApp) {
    let device: Value = app
        .post_json(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "cổng 1", "role": "checkpoint", "unit_code": COMMUNE}),
        )
        .await;
    let token = device["token"].as_str().unwrap();
    let res = app
        .post("/api/v1/auth/device", None, &json!({"token": token}))
        .await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        !cookie.contains(token),
        "the cookie holds a session, not the token"
    );
    let session = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("kd_session=")
        .to_owned();
    assert_eq!(
        app.get("/api/v1/locations", Some(&session)).await.status(),
        200
    );
    // Revoking the device token ends the browser's session too.
    let hash = kiemdich_server::token_hash(token);
    app.store.revoke_token(&hash).await.unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        app.get("/api/v1/locations", Some(&session)).await.status(),
        401
    );
}

/// An onset of 0000-01-01 was traced from year -1; travel dates 0000 and 9999, NUL bytes and bidi overrides,
/// 5,000 duplicate `admits` and `q=%%` were all accepted.
async fn dates_text_and_lists_are_bounded(app: TestApp) {
    let (code, err) = status(
        app.post(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[0].0, "onset": "0000-01-01"}),
        )
        .await,
    )
    .await;
    assert_eq!(code, 422, "{err}");
    assert_eq!(err["fields"][0]["field"], "onset_date");
    let mut p = person(0);
    p["travel"] = json!({"mode": "air", "departure_date": "9999-12-31"});
    p["street"] = json!("12 Lê Lợi\u{0}");
    p["conditions"] = json!(["hen\u{202E}suyễn"]);
    let (code, err) = status(
        app.post(
            "/api/v1/declarations",
            Some(&app.officer),
            &json!({"people": [p], "consent": true}),
        )
        .await,
    )
    .await;
    assert_eq!(code, 422, "{err}");
    let fields = common::error_fields(&err);
    assert_eq!(
        fields,
        [
            "people[0].travel.departure_date",
            "people[0].street",
            "people[0].conditions[0]"
        ]
    );
    let body = json!({"name": "Chốt QL1A", "kind": "checkpoint", "commune_code": COMMUNE, "address": "QL1A",
                      "lat": 9.6, "lon": 105.97, "admits": vec!["green"; 5000]});
    let place = app
        .post_json("/api/v1/locations", Some(&app.officer), &body)
        .await;
    assert_eq!(place["admits"], json!(["green"]), "{place}");
    for q in ["%25%25", "%20%20", "a"] {
        let path = format!("/api/v1/residents?q={q}");
        assert_eq!(
            app.get(&path, Some(&app.officer)).await.status(),
            422,
            "{q}"
        );
    }
}

/// A rotated key still signed passes that verified with a 10-year expiry, and online verification did not
/// compare the token with the stored pass.
async fn a_rotated_key_stops_signing_and_a_changed_pass_is_refused(app: TestApp) {
    let issued = app.pass_of(0, false).await;
    let old = app.state.signer().unwrap();
    let res = app
        .post("/api/v1/keys/rotate", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    let sealed = app.store.sealed_names("pass:").await.unwrap();
    assert!(
        !sealed.contains(&format!("pass:{}", old.kid().to_base64url())),
        "the old key's private half is deleted: {sealed:?}"
    );
    assert_eq!(sealed.len(), 1, "only the new key's is kept");
    assert_eq!(
        app.verify(&issued).await["valid"],
        true,
        "issued passes still verify"
    );
    // A pass the old key signs now (someone kept a copy) is dated after the key stopped signing.
    let now = chrono::Utc::now() + chrono::Duration::seconds(2);
    let forged = kiemdich_pass::encode(
        &kiemdich_pass::PassClaims {
            issuer: "VN-94".into(),
            pass_id: kiemdich_pass::PassId::random(),
            issued_at: now,
            expires_at: now + chrono::Duration::days(3650),
            holder: kiemdich_pass::Holder {
                name: "Nguyễn Văn An".into(),
                birth_year: 1990,
                masked_id: "094******456".into(),
                status: kiemdich_domain::HealthStatus::Green,
                commune: COMMUNE.into(),
                vaccination: kiemdich_domain::VaccinationSummary::NONE,
            },
        },
        &old,
    );
    let list: kiemdich_pass::TrustList = app
        .get("/api/v1/trust-list", None)
        .await
        .json()
        .await
        .unwrap();
    let offline = kiemdich_pass::Verifier::new(&list).unwrap();
    let err = offline.verify(&forged, now).unwrap_err();
    assert_eq!(err.reason.code(), "key_retired", "{}", err.detail);
    // The active key re-signs an issued pass with a longer life: genuine signature, not the issued pass.
    let mut claims = app
        .state
        .verifier()
        .verify(&issued, chrono::Utc::now())
        .unwrap();
    claims.expires_at += chrono::Duration::days(3650);
    let changed = kiemdich_pass::encode(&claims, &app.state.signer().unwrap());
    let answer = app.verify(&changed).await;
    assert_eq!(answer["valid"], false, "{answer}");
}

/// Tracing results, outbox notices and spent one-time codes were kept forever.
async fn retention_purges_traces_notices_and_spent_codes(app: TestApp) {
    app.post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
        .await;
    let empty = kiemdich_store::TraceResult {
        contacts: Vec::new(),
        min_overlap_minutes: 15,
        rule_version: "VN-2021-12".into(),
        window: kiemdich_domain::Span { from: 0, to: 1 },
    };
    app.store
        .save_trace_result(1, &empty, "test")
        .await
        .unwrap();
    let old = chrono::Utc::now().timestamp()
        - i64::from(app.state.rules.presence_retention_days + 1) * 86_400;
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    // The server purges once as it starts (then hourly): let that run end first, or under load it may purge
    // the rows aged below before this test's own purge does.
    common::wait_for_row(
        &db,
        "SELECT COUNT(*) FROM audit_log WHERE action = 'presence.purge'",
        "the start-up purge never ran",
    )
    .await;
    for table in ["outbox", "otp_challenges", "tracing_runs"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET created_at = {old}"
        )))
        .execute(&db)
        .await
        .unwrap();
    }
    let purged = app
        .store
        .purge_presence(chrono::Utc::now().timestamp() - 86_400)
        .await
        .unwrap();
    assert_eq!((purged.messages, purged.codes, purged.traces), (1, 1, 1));
    for table in ["outbox", "otp_challenges", "tracing_runs"] {
        assert_eq!(app.count(table).await, 0, "{table}");
    }
}
