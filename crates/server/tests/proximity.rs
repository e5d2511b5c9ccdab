//! The diagnosis-key server (issue 13): verification codes for confirmed cases, key uploads with their refusals,
//! signed export batches verified and matched with the kiemdich-proximity crate, retention, and the per-unit
//! counts — on SQLite and PostgreSQL.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use base64::Engine as _;
use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, error_fields};
use kiemdich_proximity::{
    AemCipher, EnIntervalNumber, Metadata, Observation, ProximityRules, TemporaryExposureKey,
};
use kiemdich_store::Role;
use serde_json::{Value, json};

on_both_backends!(
    codes_only_for_open_confirmed_cases_in_jurisdiction,
    an_upload_uses_the_code_once_and_keeps_only_the_infectious_window,
    an_expired_code_is_refused,
    bad_uploads_are_refused_field_by_field_and_store_nothing,
    exports_are_signed_listed_downloaded_verified_and_matched,
    keys_and_batches_go_fourteen_days_after_their_interval,
    counts_per_unit_and_day_inside_jurisdiction,
    wrong_codes_are_throttled_per_address,
);

const DAY: i64 = 144;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The UTC day's first interval, `days` days from today (phones roll their key at UTC midnight).
fn day_start(days: i64) -> i64 {
    i64::from(EnIntervalNumber::from_unix(now()).0) / DAY * DAY + days * DAY
}

/// A daily key `days` from today whose 16 bytes are all `byte`.
fn key(days: i64, byte: u8) -> Value {
    json!({"key": base64::engine::general_purpose::STANDARD.encode([byte; 16]),
        "rolling_start_interval_number": day_start(days), "rolling_period": DAY, "transmission_risk_level": 4})
}

/// Daily keys from `from` days ago to today.
fn keys(from: i64) -> Vec<Value> {
    (-from..=0).map(|d| key(d, (d + 100) as u8)).collect()
}

async fn issue(app: &TestApp, case_id: i64) -> Value {
    let res = app
        .post(
            "/api/v1/proximity/codes",
            Some(&app.health),
            &json!({"case_id": case_id}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

async fn upload(app: &TestApp, code: &str, keys: &[Value]) -> reqwest::Response {
    app.post(
        "/api/v1/proximity/keys",
        None,
        &json!({"code": code, "consent": true, "keys": keys}),
    )
    .await
}

/// How many of daily keys `from` days ago to today end after the first interval of the infectious window of
/// a case whose onset was `onset_days_ago` (the rules' days before onset, from local midnight).
fn in_window(app: &TestApp, from: i64, onset_days_ago: i64) -> usize {
    let tracing = &app.state.rules.tracing;
    let onset = tracing.local_date(now()) - chrono::Duration::days(onset_days_ago);
    let first = onset - chrono::Duration::days(i64::from(tracing.infectious_days_before_onset));
    let start = i64::from(EnIntervalNumber::from_unix(tracing.day_start(first)).0);
    (-from..=0).filter(|d| day_start(*d) + DAY > start).count()
}

async fn sql(app: &TestApp, statement: &str) {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(statement.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap();
}

async fn codes_only_for_open_confirmed_cases_in_jurisdiction(app: TestApp) {
    let case_id = app.confirmed_case(0, 2).await;
    let issued = issue(&app, case_id).await;
    let code = issued["code"].as_str().unwrap();
    assert_eq!(code.len(), 9, "{code}");
    assert_eq!(&code[4..5], "-");
    let expires = chrono::DateTime::parse_from_rfc3339(issued["expires_at"].as_str().unwrap())
        .unwrap()
        .timestamp();
    assert!((expires - now() - 24 * 3600).abs() < 60, "{issued}");
    // Only the hash is stored.
    assert_eq!(app.count("proximity_codes").await, 1);
    let hash_holds_code = {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
        let hash: String = sqlx::query_scalar("SELECT code_hash FROM proximity_codes")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        hash.contains(code) || hash.contains(&code.replace('-', ""))
    };
    assert!(!hash_holds_code);
    // The person gets it by SMS, in Vietnamese.
    let phone = RESIDENTS[0].5;
    let mut sms = None;
    for _ in 0..100 {
        sms = app
            .sent
            .all()
            .into_iter()
            .find(|m| m.recipient == phone && m.body.contains(code));
        if sms.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let sms = sms.expect("the code was sent by SMS");
    assert!(sms.body.contains("mã tải khoá"), "{}", sms.body);
    assert!(sms.secret, "the code is blanked from the outbox once sent");

    // Outside the jurisdiction, an unknown case: 404; not a health role: 403.
    let elsewhere = app.token(Role::Health, OTHER_COMMUNE).await;
    let body = json!({"case_id": case_id});
    let res = app
        .post("/api/v1/proximity/codes", Some(&elsewhere), &body)
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post(
            "/api/v1/proximity/codes",
            Some(&app.health),
            &json!({"case_id": case_id + 1000}),
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post("/api/v1/proximity/codes", Some(&app.officer), &body)
        .await;
    assert_eq!(res.status(), 403);
    let res = app.post("/api/v1/proximity/codes", None, &body).await;
    assert_eq!(res.status(), 401);

    // A suspected case, and an F0 case that has ended: 422 on case_id.
    let suspected = app
        .post_json(
            "/api/v1/cases",
            Some(&app.health),
            &json!({"citizen_id": RESIDENTS[1].0, "classification": "suspected"}),
        )
        .await["id"]
        .as_i64()
        .unwrap();
    let res = app
        .post(
            "/api/v1/proximity/codes",
            Some(&app.health),
            &json!({"case_id": suspected}),
        )
        .await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(error_fields(&err), ["case_id"]);
    assert_eq!(err["fields"][0]["code"], "not_confirmed_case", "{err}");
    let res = app
        .post(
            &format!("/api/v1/cases/{case_id}/state"),
            Some(&app.health),
            &json!({"state": "released"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app
        .post("/api/v1/proximity/codes", Some(&app.health), &body)
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("proximity_codes").await, 1);
}

async fn an_upload_uses_the_code_once_and_keeps_only_the_infectious_window(app: TestApp) {
    let case_id = app.confirmed_case(0, 2).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let expected = in_window(&app, 10, 2);
    assert!(expected > 0 && expected < 11, "{expected}");
    // Read back in lower case without the dash, as a person may type it.
    let typed = code.replace('-', "").to_lowercase();
    let res = upload(&app, &typed, &keys(10)).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"accepted": expected})
    );
    assert_eq!(app.count("proximity_keys").await, expected as i64);
    // Nothing that names the case is left: the code's row went with the upload.
    assert_eq!(app.count("proximity_codes").await, 0);

    let again = upload(&app, &code, &keys(1)).await;
    assert_eq!(again.status(), 403);
    let err: Value = again.json().await.unwrap();
    assert_eq!(err["error"], "forbidden");
    assert!(err["message"].as_str().unwrap().contains("mã mới"), "{err}");
    assert_eq!(upload(&app, "ACDE-FGHJ", &keys(1)).await.status(), 403);
    assert_eq!(app.count("proximity_keys").await, expected as i64);
}

async fn an_expired_code_is_refused(app: TestApp) {
    let case_id = app.confirmed_case(0, 1).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    sql(
        &app,
        &format!("UPDATE proximity_codes SET expires_at = {}", now() - 1),
    )
    .await;
    assert_eq!(upload(&app, &code, &keys(3)).await.status(), 403);
    assert_eq!(app.count("proximity_keys").await, 0);
}

async fn bad_uploads_are_refused_field_by_field_and_store_nothing(app: TestApp) {
    let case_id = app.confirmed_case(0, 1).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = |body: Value| {
        let app = &app;
        async move {
            let res = app.post("/api/v1/proximity/keys", None, &body).await;
            assert_eq!(res.status(), 422, "{body}");
            let err: Value = res.json().await.unwrap();
            err["fields"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["field"].as_str().unwrap().to_owned(),
                        f["code"].as_str().unwrap().to_owned(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let pair = |f: &str, c: &str| (f.to_owned(), c.to_owned());
    assert_eq!(
        refused(json!({"code": code, "consent": false, "keys": keys(1)})).await,
        [pair("consent", "key_consent")]
    );
    assert_eq!(
        refused(json!({"code": code, "keys": keys(1)})).await,
        [pair("consent", "key_consent")]
    );
    let mut short = key(0, 1);
    short["key"] = json!(base64::engine::general_purpose::STANDARD.encode([1u8; 15]));
    let mut garbage = key(-1, 2);
    garbage["key"] = json!("not base64!");
    assert_eq!(
        refused(json!({"code": code, "consent": true, "keys": [short, garbage]})).await,
        [
            pair("keys[0].key", "key_length"),
            pair("keys[1].key", "key_length")
        ]
    );
    let mut short = key(0, 1);
    short["key"] = json!(base64::engine::general_purpose::STANDARD.encode([1u8; 15]));
    let mut overlapping = key(-2, 3);
    overlapping["rolling_start_interval_number"] = json!(day_start(-1) + 72);
    let future = key(2, 5);
    let duplicate = key(-3, 7);
    let mut risk = key(-4, 8);
    risk["transmission_risk_level"] = json!(9);
    assert_eq!(
        refused(json!({"code": code, "consent": true,
            "keys": [short, key(-1, 6), overlapping, future, key(-5, 7), duplicate, risk]}))
        .await,
        [
            pair("keys[0].key", "key_length"),
            pair("keys[2].rolling_start_interval_number", "key_overlap"),
            pair("keys[3].rolling_start_interval_number", "key_future"),
            pair("keys[5].key", "key_duplicate"),
            pair("keys[6].transmission_risk_level", "out_of_range"),
        ]
    );
    // More than 14 days back: the oldest key is refused.
    assert_eq!(
        refused(json!({"code": code, "consent": true, "keys": keys(15)})).await,
        [pair("keys[0].rolling_start_interval_number", "key_too_old")]
    );
    let many: Vec<Value> = (0..31).map(|i| key(-(i % 14), i as u8)).collect();
    assert_eq!(
        refused(json!({"code": code, "consent": true, "keys": many})).await,
        [pair("keys", "too_many")]
    );
    assert_eq!(
        refused(json!({"code": code, "consent": true, "keys": []})).await,
        [pair("keys", "required")]
    );
    assert_eq!(app.count("proximity_keys").await, 0);
    // None of these used the code up.
    assert_eq!(upload(&app, &code, &keys(13)).await.status(), 201);
}

/// The key of `byte` among [`keys`], as the crate types it.
fn tek(days: i64, byte: u8) -> TemporaryExposureKey {
    TemporaryExposureKey {
        key: [byte; 16],
        rolling_start: EnIntervalNumber(u32::try_from(day_start(days)).unwrap()),
        rolling_period: 144,
        transmission_risk_level: 4,
    }
}

async fn exports_are_signed_listed_downloaded_verified_and_matched(app: TestApp) {
    assert_eq!(
        app.get_json("/api/v1/proximity/exports", None).await,
        json!({"batches": []})
    );
    let case_id = app.confirmed_case(0, 1).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(upload(&app, &code, &keys(2)).await.status(), 201);
    // Cut now, as `kiemdich proximity export` does (the server's own job may have cut it first: one batch).
    app.store
        .cut_proximity_export(&app.data_dir, "VN")
        .await
        .unwrap();
    // Nothing new: no second batch.
    assert!(
        app.store
            .cut_proximity_export(&app.data_dir, "VN")
            .await
            .unwrap()
            .is_none()
    );
    let list = app.get_json("/api/v1/proximity/exports", None).await;
    let batches = list["batches"].as_array().unwrap();
    assert_eq!(batches.len(), 1, "{list}");
    assert_eq!(batches[0]["keys"], 3);
    let res = app
        .client
        .get(batches[0]["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    let zip = res.bytes().await.unwrap().to_vec();
    let res = app.get("/api/v1/proximity/export-key", None).await;
    assert_eq!(res.status(), 200);
    let pem = res.text().await.unwrap();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----"), "{pem}");
    let public = kiemdich_proximity::public_key_from_pem(&pem).unwrap();
    let export = kiemdich_proximity::read_export(&zip, &public).unwrap();
    assert_eq!((export.batch_num, export.batch_size), (1, 1));
    assert_eq!(export.region, "VN");
    let mut got = export.keys.clone();
    got.sort_by_key(|k| k.rolling_start);
    assert_eq!(got, vec![tek(-2, 98), tek(-1, 99), tek(0, 100)]);
    // A key from elsewhere does not verify it; a flipped byte breaks it.
    let other = kiemdich_proximity::p256::ecdsa::SigningKey::from_slice(&[3; 32]).unwrap();
    assert!(kiemdich_proximity::read_export(&zip, other.verifying_key()).is_err());
    let mut tampered = zip.clone();
    let at = tampered.len() / 3;
    tampered[at] ^= 0x55;
    assert!(kiemdich_proximity::read_export(&tampered, &public).is_err());

    // A phone that heard yesterday's key for 20 minutes at about a metre finds the exposure on its own.
    let heard = tek(-1, 99);
    let aem = AemCipher::new(&heard.aemk());
    let interval = EnIntervalNumber(heard.rolling_start.0 + 60);
    let observations: Vec<Observation> = (0..2)
        .map(|i| {
            let rpi = heard.rpi(EnIntervalNumber(interval.0 + i));
            Observation {
                aem: aem.encrypt(&rpi, Metadata::v1(-8)),
                rpi,
                rssi_dbm: -55,
                at: EnIntervalNumber(interval.0 + i).start_unix(),
                duration_seconds: 600,
            }
        })
        .collect();
    let exposures = kiemdich_proximity::match_keys(
        &observations,
        &export.keys,
        &ProximityRules::default(),
        None,
    );
    assert_eq!(exposures.len(), 1, "{exposures:?}");
    assert_eq!(exposures[0].key, heard);
    assert!(exposures[0].close_contact);
    assert_eq!(
        app.get("/api/v1/proximity/exports/999", None)
            .await
            .status(),
        404
    );
}

async fn keys_and_batches_go_fourteen_days_after_their_interval(app: TestApp) {
    let case_id = app.confirmed_case(0, 1).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(upload(&app, &code, &keys(2)).await.status(), 201);
    app.store
        .cut_proximity_export(&app.data_dir, "VN")
        .await
        .unwrap();
    assert_eq!(app.count("proximity_exports").await, 1);
    let retention = app.state.proximity.key_retention_days;
    assert_eq!(retention, 14);
    let purged = app.store.purge_proximity(now(), retention).await.unwrap();
    assert_eq!((purged.keys, purged.batches), (0, 0));
    // Fourteen days after yesterday's key ended: the two older keys go, today's stays with its batch.
    let later = EnIntervalNumber(u32::try_from(day_start(0)).unwrap()).start_unix() + 14 * 86_400;
    let purged = app.store.purge_proximity(later, retention).await.unwrap();
    assert_eq!((purged.keys, purged.batches), (2, 0));
    assert_eq!(app.count("proximity_keys").await, 1);
    assert_eq!(app.count("proximity_exports").await, 1);
    let purged = app
        .store
        .purge_proximity(later + 86_400, retention)
        .await
        .unwrap();
    assert_eq!((purged.keys, purged.batches), (1, 1));
    assert_eq!(
        app.get_json("/api/v1/proximity/exports", None).await,
        json!({"batches": []})
    );
    // An unused code goes once expired.
    issue(&app, case_id).await;
    let purged = app
        .store
        .purge_proximity(now() + 25 * 3600, retention)
        .await
        .unwrap();
    assert_eq!(purged.codes, 1);
    assert_eq!(app.count("proximity_codes").await, 0);
}

async fn counts_per_unit_and_day_inside_jurisdiction(app: TestApp) {
    let case_id = app.confirmed_case(0, 1).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    issue(&app, case_id).await;
    assert_eq!(upload(&app, &code, &keys(1)).await.status(), 201);
    let today = app.state.rules.tracing.local_date(now());
    let counts = app
        .get_json("/api/v1/proximity/counts", Some(&app.health))
        .await;
    assert_eq!(counts["days"], 28);
    let rows = counts["counts"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{counts}");
    let row = &rows[0];
    assert_eq!(row["unit_code"], COMMUNE);
    assert!(
        row["unit_name"].as_str().unwrap().contains("Phường"),
        "{row}"
    );
    assert_eq!(row["day"], today.to_string());
    assert_eq!(row["day_local"], today.format("%d/%m/%Y").to_string());
    assert_eq!(
        (&row["codes_issued"], &row["uploads"], &row["keys_uploaded"]),
        (&json!(2), &json!(1), &json!(2))
    );
    let elsewhere = app.token(Role::Health, OTHER_COMMUNE).await;
    let theirs = app
        .get_json("/api/v1/proximity/counts", Some(&elsewhere))
        .await;
    assert_eq!(theirs["counts"], json!([]));
    assert_eq!(
        app.get("/api/v1/proximity/counts", Some(&app.officer))
            .await
            .status(),
        403
    );

    // The staff page: unit names and dd/mm/yyyy dates; the case page's button.
    let page = app
        .get("/health/proximity", Some(&app.health))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(row["unit_name"].as_str().unwrap()), "{page}");
    assert!(page.contains(row["day_local"].as_str().unwrap()));
    assert!(!page.contains(COMMUNE), "no unit codes on the page");
    let case_page = app
        .get(&format!("/health?case={case_id}"), Some(&app.health))
        .await
        .text()
        .await
        .unwrap();
    assert!(case_page.contains("Tạo mã tải khoá"), "{case_page}");
    assert!(case_page.contains("data-then=\"proximityCode\""));
}

async fn wrong_codes_are_throttled_per_address(app: TestApp) {
    let free = app.state.rules.security.free_failures;
    // The free failures, and the one that starts the wait, are answered 403; then 429 with Retry-After.
    for i in 0..=free {
        let res = upload(&app, &format!("WRONG{i:03}"), &keys(1)).await;
        assert_eq!(res.status(), 403, "attempt {i}");
    }
    let res = upload(&app, "WRONG999", &keys(1)).await;
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // While it waits, even a right code is not tried: nothing stored, the code still usable afterwards.
    let case_id = app.confirmed_case(0, 1).await;
    let code = issue(&app, case_id).await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(upload(&app, &code, &keys(1)).await.status(), 429);
    assert_eq!(app.count("proximity_keys").await, 0);
    assert_eq!(app.count("proximity_codes").await, 1);
}
