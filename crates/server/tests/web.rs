//! The API behind the web app, on both backends: resident sessions by one-time code, venue check-ins by
//! poster code, scans of people without a pass, venue owners' counts, and the administrators' endpoints.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp, person};
use reqwest::header::SET_COOKIE;
use serde_json::{Value, json};

on_both_backends!(
    residents_sign_in_with_a_code_see_their_data_and_check_in_at_venues,
    people_without_a_pass_are_scanned_by_citizen_id_after_an_identity_check,
    venue_owners_register_their_venues_and_see_counts_never_names,
    administrators_list_accounts_and_devices_and_rotate_the_key,
    a_resident_may_stay_signed_in_on_a_remembered_device,
    residents_read_their_pages_in_khmer_and_staff_pages_fall_back_to_vietnamese,
    a_page_whose_data_does_not_read_says_so_rather_than_showing_an_empty_list,
    travel_places_are_picked_by_name_across_the_country,
    a_person_under_a_case_is_shown_their_health_station_and_no_form,
    a_proximity_app_link_shows_the_advice_and_ticks_the_exposure,
);

/// The link a proximity-tracing app opens (`/?phoi-nhiem=DAY`): the advice in Vietnamese with the day in Vietnam
/// format, and the resident's form with the exposure ticked and its day; without the link, or with a day that
/// is not past, nothing is ticked and no advice shows.
async fn a_proximity_app_link_shows_the_advice_and_ticks_the_exposure(app: TestApp) {
    let (token, _) = resident_session(&app, 0).await;
    let today = app
        .state
        .rules
        .dates_at(chrono::Utc::now().timestamp())
        .today;
    let day = today - chrono::Duration::days(1);
    let page = |path: String| {
        let (app, token) = (&app, &token);
        async move { app.get(&path, Some(token)).await.text().await.unwrap() }
    };
    let ticked = r#"name="people.0.exposures" value="proximity" checked"#;
    let linked = page(format!("/?phoi-nhiem={day}")).await;
    assert!(linked.contains(ticked), "{linked}");
    assert!(linked.contains(&format!(
        r#"name="people.0.proximity_exposure_date" value="{day}""#
    )));
    assert!(linked.contains(&format!(
        "Ứng dụng cho biết ngày {} bạn đã ở gần một người bệnh",
        day.format("%d/%m/%Y")
    )));
    assert!(linked.contains("Ứng dụng báo đã tiếp xúc gần người bệnh (Bluetooth)"));
    let future = today + chrono::Duration::days(2);
    for other in [
        page("/".into()).await,
        page(format!("/?phoi-nhiem={future}")).await,
    ] {
        assert!(other.contains(r#"value="proximity""#));
        assert!(!other.contains(ticked) && !other.contains("proximity_exposure_date"));
        assert!(!other.contains("Ứng dụng cho biết ngày"));
    }
}

/// An F0 sees what the case means, their health station's phone (configured for their commune) and the
/// hotline, and no declaration form; a person of a commune without a configured station sees the hotline only.
async fn a_person_under_a_case_is_shown_their_health_station_and_no_form(app: TestApp) {
    let day = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    for i in [0, 3] {
        let res = app
            .post(
                "/api/v1/cases",
                Some(&app.health),
                &json!({"citizen_id": RESIDENTS[i].0, "onset_date": day.to_string()}),
            )
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    }
    let (token, _) = resident_session(&app, 0).await;
    let me: Value = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["case"]["classification"], "f0");
    assert_eq!(me["case"]["station"]["phone"], common::STATION_PHONE);
    assert_eq!(me["case"]["station"]["unit_name"], "Phường 5");
    let page = app.get("/", Some(&token)).await.text().await.unwrap();
    assert!(
        page.contains(common::STATION_PHONE) && page.contains("1900 9095"),
        "station and hotline"
    );
    assert!(
        !page.contains(r#"id="declare""#),
        "no declaration form under a case"
    );
    let (other, _) = resident_session(&app, 3).await;
    let me: Value = app.get_json("/api/v1/me", Some(&other)).await;
    assert_eq!(me["case"]["station"], Value::Null, "{}", RESIDENTS[3].4);
    assert_eq!(me["case"]["hotline"], "1900 9095");
}

/// The issue's walk-through: typing "Cần Thơ" as a travel place failed, the form wanted a unit code. Places are
/// now picked by name: this province's communes and districts, then every other province.
async fn travel_places_are_picked_by_name_across_the_country(app: TestApp) {
    let page = app
        .get("/officer", Some(&app.officer))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<option value="92">Thành phố Cần Thơ</option>"#),
        "another province by name"
    );
    assert!(page.contains(r#"<option value="79">Thành phố Hồ Chí Minh</option>"#));
    assert!(
        page.contains(r#"name="people.0.travel.departure_unit""#)
            && !page.contains(r#"list="units""#)
    );
    // A journey from Cần Thơ is reported by name.
    let mut traveller = person(0);
    traveller["travel"] =
        json!({"mode": "coach", "departure_unit": "92", "destination_unit": COMMUNE});
    let answer = app.declare(vec![traveller]).await;
    assert!(answer["people"][0]["pass"]["token"].is_string(), "{answer}");
}

/// A stored row that does not parse (a bad restore, a hand edit) is an error page with its status, in the
/// page's language: never a list silently missing what it should hold.
async fn a_page_whose_data_does_not_read_says_so_rather_than_showing_an_empty_list(app: TestApp) {
    let body = json!({"name": "Chợ Phường 1", "kind": "market", "commune_code": COMMUNE,
        "address": "Quốc lộ 1A", "lat": 9.6, "lon": 105.97});
    assert_eq!(
        app.post("/api/v1/locations", Some(&app.officer), &body)
            .await
            .status(),
        201
    );
    assert_eq!(app.get("/admin", Some(&app.admin)).await.status(), 200);
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    sqlx::query("UPDATE locations SET kind = 'spaceport'")
        .execute(&db)
        .await
        .unwrap();
    let res = app.get("/admin", Some(&app.admin)).await;
    assert_eq!(res.status(), 500);
    let page = res.text().await.unwrap();
    assert!(page.contains("Máy chủ gặp lỗi"), "{page}");
    assert!(
        !page.contains("spaceport"),
        "no internal detail on the page"
    );
    assert_eq!(app.get("/venue", Some(&app.admin)).await.status(), 500);
}

/// The language switch keeps Khmer; the resident's pages are in Khmer, staff texts without a Khmer version in
/// Vietnamese, never English.
async fn residents_read_their_pages_in_khmer_and_staff_pages_fall_back_to_vietnamese(app: TestApp) {
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects
        .get(app.at("/lang/km?back=/"))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("kd_lang=km"), "{cookie}");
    let page = |path: &'static str| {
        let req = app.client.get(app.at(path)).header("cookie", "kd_lang=km");
        async move { req.send().await.unwrap().text().await.unwrap() }
    };
    let home = page("/").await;
    assert!(
        home.contains(r#"<html lang="km""#),
        "the page says it is Khmer"
    );
    assert!(
        home.contains("លេខអត្តសញ្ញាណ"),
        "the sign-in asks for the id in Khmer"
    );
    assert!(
        home.contains("Tiếng Việt") && home.contains("English"),
        "the other languages are offered"
    );
    let staff = page("/health").await;
    assert!(
        staff.contains("Y tế: ca bệnh và truy vết"),
        "a staff page without Khmer is Vietnamese"
    );
    assert!(!staff.contains("Health: cases and tracing"));
}

/// A resident session is two hours unless the resident asks to remember the device (30 days); signing out ends
/// either at once.
async fn a_resident_may_stay_signed_in_on_a_remembered_device(app: TestApp) {
    let (res, _) = app.resident_sign_in(0).await;
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(cookie.contains("Max-Age=7200"), "{cookie}");
    let challenge: Value = app
        .post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
        .await
        .json()
        .await
        .unwrap();
    let code = app.sent_code(RESIDENTS[0].5).await;
    let answer = json!({"challenge_id": challenge["challenge_id"], "code": code, "remember": true});
    let res = app.post("/api/v1/auth/resident", None, &answer).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    assert!(
        cookie.contains(&format!("Max-Age={}", 30 * 86_400)),
        "{cookie}"
    );
    let body: Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let expires =
        chrono::DateTime::parse_from_rfc3339(body["expires_at"].as_str().unwrap()).unwrap();
    assert!(expires.timestamp() - chrono::Utc::now().timestamp() > 29 * 86_400);
    assert_eq!(app.get("/api/v1/me", Some(token)).await.status(), 200);
    app.post("/api/v1/auth/logout", Some(token), &json!({}))
        .await;
    assert_eq!(
        app.get("/api/v1/me", Some(token)).await.status(),
        401,
        "signing out ends it"
    );
}

/// Signs resident `i` in with a fresh one-time code; returns the session token and the answer's cookie.
async fn resident_session(app: &TestApp, i: usize) -> (String, String) {
    let (res, answer) = app.resident_sign_in(i).await;
    assert_eq!(res.status(), 200);
    let cookie = res.headers()[SET_COOKIE].to_str().unwrap().to_owned();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["role"], "resident");
    // The code is used up by the sign-in.
    let again = app.post("/api/v1/auth/resident", None, &answer).await;
    assert_eq!(again.status(), 422);
    (body["token"].as_str().unwrap().to_owned(), cookie)
}

async fn residents_sign_in_with_a_code_see_their_data_and_check_in_at_venues(app: TestApp) {
    let (token, cookie) = resident_session(&app, 0).await;
    assert!(
        cookie.starts_with("kd_session=")
            && cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
    );
    let me: Value = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["full_name"], RESIDENTS[0].1);
    assert_eq!(
        me["phone"], "091****678",
        "the phone is masked even to its owner"
    );
    assert!(me["pass"].is_null());
    // The session declares for the resident and a child, with no further code.
    let family = json!({"people": [person(0), person(2)], "consent": true});
    let res = app
        .post("/api/v1/declarations", Some(&token), &family)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let others = json!({"people": [person(1)], "consent": true});
    let res = app
        .post("/api/v1/declarations", Some(&token), &others)
        .await;
    assert_eq!(
        res.status(),
        422,
        "a resident declares only with themselves in it"
    );
    let res = app.get("/api/v1/residents?q=Nguyen", Some(&token)).await;
    assert_eq!(res.status(), 403, "residents cannot search the registry");
    // Check-in by the venue poster's signed code; a resend is a replay, a forged code stores nothing.
    let market = app.location("market", COMMUNE).await;
    let code = kiemdich_pass::sign_venue(market, &app.state.signer().unwrap());
    let body = json!({"code": code, "idempotency_key": "k1"});
    let res = app.post("/api/v1/me/checkins", Some(&token), &body).await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!(first["decision"], "admit");
    assert_eq!(first["location"], "Chốt market");
    let res = app.post("/api/v1/me/checkins", Some(&token), &body).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<Value>().await.unwrap()["event_id"],
        first["event_id"]
    );
    let forged = code.replacen(&format!("KDV1:{market}."), "KDV1:999.", 1);
    let res = app
        .post(
            "/api/v1/me/checkins",
            Some(&token),
            &json!({"code": forged, "idempotency_key": "k2"}),
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(app.count("presence_events").await, 1);
    let res = app
        .post(
            "/api/v1/me/checkins",
            Some(&app.checkpoint),
            &json!({"code": code, "idempotency_key": "k3"}),
        )
        .await;
    assert_eq!(res.status(), 403, "staff do not check in as residents");
    let me: Value = app.get_json("/api/v1/me", Some(&token)).await;
    assert_eq!(me["pass"]["live"], true);
    assert_eq!(me["visits"][0]["method"], "self_checkin");
    assert_eq!(me["visits"][0]["location"], "Chốt market");
    // The resident's own page: no staff sections, no id in the header.
    let page = app.get("/", Some(&token)).await.text().await.unwrap();
    for staff_only in [
        r#"href="/admin""#,
        r#"href="/health""#,
        r#"href="/officer""#,
    ] {
        assert!(
            !page.contains(staff_only),
            "{staff_only} shown to a resident"
        );
    }
    assert!(!page.contains(&format!("resident {}", RESIDENTS[0].0)));
    let audit = app
        .store
        .audit_entries(&format!("citizen:{}", RESIDENTS[0].0), 50)
        .await
        .unwrap();
    assert!(
        audit.iter().any(|e| e.action == "resident.self_read"
            && e.actor == format!("citizen:{}", RESIDENTS[0].0))
    );
    // The cookie alone authenticates; logging out ends the session at once.
    let session = cookie.split(';').next().unwrap().to_owned();
    let res = app
        .client
        .get(app.at("/api/v1/me"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .client
        .post(app.at("/api/v1/auth/logout"))
        .header("Cookie", &session)
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(app.get("/api/v1/me", Some(&token)).await.status(), 401);
}

async fn people_without_a_pass_are_scanned_by_citizen_id_after_an_identity_check(app: TestApp) {
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let scan = |body: Value| {
        let app = &app;
        async move {
            app.post(
                &format!("/api/v1/locations/{checkpoint}/scans"),
                Some(&app.checkpoint),
                &body,
            )
            .await
        }
    };
    let unchecked =
        json!({"citizen_id": RESIDENTS[3].0, "direction": "in", "idempotency_key": "a"});
    let res = scan(unchecked).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["fields"][0]["field"], "identity_checked");
    let both = json!({"token": "KD1:X", "citizen_id": RESIDENTS[3].0, "identity_checked": true, "direction": "in", "idempotency_key": "b"});
    assert_eq!(scan(both).await.status(), 422);
    let stranger = json!({"citizen_id": "094090999999", "identity_checked": true, "direction": "in", "idempotency_key": "c"});
    assert_eq!(scan(stranger).await.status(), 422, "not in the registry");
    assert_eq!(app.count("presence_events").await, 0);
    // Never declared: recorded as a refusal, by lookup.
    let res = scan(json!({"citizen_id": RESIDENTS[3].0, "identity_checked": true, "direction": "in", "idempotency_key": "d"})).await;
    assert_eq!(res.status(), 201);
    let a: Value = res.json().await.unwrap();
    assert_eq!(
        (a["decision"].as_str(), a["reason"].as_str()),
        (Some("refuse"), Some("no_declaration"))
    );
    // The registry's name and birth year, for staff to compare with the card in their hand.
    assert_eq!(
        (a["full_name"].as_str(), a["birth_year"].as_i64()),
        (Some(RESIDENTS[3].1), Some(1970))
    );
    // Declared (a paper form typed in by an officer): admitted on the current pass.
    app.declare(vec![person(0)]).await;
    let res = scan(json!({"citizen_id": RESIDENTS[0].0, "identity_checked": true, "direction": "in", "idempotency_key": "e"})).await;
    assert_eq!(res.status(), 201);
    let a: Value = res.json().await.unwrap();
    assert_eq!(
        (
            a["decision"].as_str(),
            a["full_name"].as_str(),
            a["birth_year"].as_i64()
        ),
        (Some("admit"), Some(RESIDENTS[0].1), Some(1990))
    );
    let presence: Value = app
        .get_json(
            &format!("/api/v1/locations/{checkpoint}/presence"),
            Some(&app.health),
        )
        .await;
    let events = presence["events"].as_array().unwrap();
    assert_eq!(events.len(), 2);
    assert!(events.iter().all(|e| e["method"] == "id_lookup"));
    assert_eq!(events[0]["citizen_id"], RESIDENTS[3].0);
}

/// Creates a staff account as the admin and returns a session token for it.
async fn account(app: &TestApp, username: &str, role: &str, unit: &str) -> String {
    let body = json!({"username": username, "password": "mat-khau-dai-du", "role": role, "unit_code": unit});
    let res = app.post("/api/v1/staff", Some(&app.admin), &body).await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let login: Value = app
        .post_json(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": "mat-khau-dai-du"}),
        )
        .await;
    login["token"].as_str().unwrap().to_owned()
}

async fn venue_owners_register_their_venues_and_see_counts_never_names(app: TestApp) {
    let owner = account(&app, "chu.quan", "venue", COMMUNE).await;
    let other_owner = account(&app, "chu.cho", "venue", COMMUNE).await;
    let place = |kind: &str| json!({"name": "Quán cơm Ba Cô", "kind": kind, "commune_code": COMMUNE, "address": "12 Hùng Vương", "lat": 9.6, "lon": 105.97});
    let res = app
        .post("/api/v1/locations", Some(&owner), &place("checkpoint"))
        .await;
    assert_eq!(res.status(), 422, "owners do not register checkpoints");
    let res = app
        .post("/api/v1/locations", Some(&owner), &place("business"))
        .await;
    assert_eq!(res.status(), 201);
    let venue: Value = res.json().await.unwrap();
    let id = venue["id"].as_i64().unwrap();
    assert!(venue["owner"].as_str().unwrap().starts_with("staff:"));
    let res = app.post("/api/v1/locations", Some(&owner), &json!({"name": "x", "kind": "market", "commune_code": OTHER_COMMUNE, "lat": 9.6, "lon": 105.97})).await;
    assert_eq!(res.status(), 403, "outside the owner's commune");
    app.location("checkpoint", COMMUNE).await;
    let mine: Value = app.get_json("/api/v1/locations", Some(&owner)).await;
    assert_eq!(
        mine.as_array().unwrap().len(),
        1,
        "an owner sees their own venues only"
    );
    for (i, key) in [(0, "x1"), (1, "x2")] {
        let token = app.pass_of(i, false).await;
        let res = app
            .post(
                &format!("/api/v1/locations/{id}/scans"),
                Some(&app.checkpoint),
                &json!({"token": token, "direction": "in", "idempotency_key": key}),
            )
            .await;
        assert_eq!(res.status(), 201);
    }
    let res = app
        .get(&format!("/api/v1/locations/{id}/counts"), Some(&owner))
        .await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let counts: Value = serde_json::from_str(&text).unwrap();
    let total: i64 = counts["hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["entries"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2);
    for r in RESIDENTS {
        assert!(
            !text.contains(r.0) && !text.contains(r.1),
            "counts never name people"
        );
    }
    assert_eq!(
        app.get(&format!("/api/v1/locations/{id}/presence"), Some(&owner))
            .await
            .status(),
        403
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/locations/{id}/counts"),
            Some(&other_owner)
        )
        .await
        .status(),
        404
    );
    let bad_day = app
        .get(
            &format!("/api/v1/locations/{id}/counts?date=26-11-2026"),
            Some(&owner),
        )
        .await;
    assert_eq!(bad_day.status(), 422);
}

async fn administrators_list_accounts_and_devices_and_rotate_the_key(app: TestApp) {
    account(&app, "canbo.xa", "officer", COMMUNE).await;
    let res = app.post("/api/v1/staff", Some(&app.admin), &json!({"username": "nguoidan", "password": "mat-khau-dai-du", "role": "resident", "unit_code": COMMUNE})).await;
    assert_eq!(
        res.status(),
        422,
        "the resident role comes only from a one-time code"
    );
    let staff: Value = app.get_json("/api/v1/staff", Some(&app.admin)).await;
    let row = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["username"] == "canbo.xa")
        .unwrap();
    assert!(row.get("password_hash").is_none());
    assert_eq!(
        app.get("/api/v1/staff", Some(&app.officer)).await.status(),
        403
    );
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let device: Value = app.post_json("/api/v1/tokens", Some(&app.admin), &json!({"name": "Máy quét chốt 1", "role": "checkpoint", "unit_code": COMMUNE, "location_id": checkpoint})).await;
    let devices: Value = app.get_json("/api/v1/devices", Some(&app.admin)).await;
    let listed = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Máy quét chốt 1")
        .unwrap();
    assert_eq!(listed["location_id"], checkpoint);
    assert!(
        !devices
            .to_string()
            .contains(device["token"].as_str().unwrap()),
        "tokens are never listed"
    );
    // A scanner browser keeps the device token as its session cookie; only checkpoint tokens qualify.
    let res = app
        .post(
            "/api/v1/auth/device",
            None,
            &json!({"token": device["token"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .starts_with("kd_session=kd_")
    );
    let res = app
        .post("/api/v1/auth/device", None, &json!({"token": app.officer}))
        .await;
    assert_eq!(res.status(), 401);
    // Rotation: a new key signs, passes of the old one still verify.
    let old_pass = app.pass_of(0, false).await;
    let before = app.state.signer().unwrap().kid();
    let res = app
        .post("/api/v1/keys/rotate", Some(&app.admin), &json!({}))
        .await;
    assert_eq!(res.status(), 200);
    assert_ne!(app.state.signer().unwrap().kid(), before);
    let trust: Value = app.get_json("/api/v1/trust-list", None).await;
    assert_eq!(trust["keys"].as_array().unwrap().len(), 2);
    assert_eq!(app.verify(&old_pass).await["valid"], true);
    let commune_admin = account(&app, "qtv.xa", "admin", COMMUNE).await;
    let res = app
        .post("/api/v1/keys/rotate", Some(&commune_admin), &json!({}))
        .await;
    assert_eq!(res.status(), 403, "only the province rotates its key");
}
