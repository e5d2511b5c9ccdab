//! Administrators (issue 9): disabling and enabling a staff account, resetting its password, revoking a
//! device, enrolling a scanning device by QR; inside the administrator's jurisdiction only (404 outside it,
//! like an unknown id), every change audited. On both backends.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, TestApp};
use kiemdich_store::Role;
use serde_json::{Value, json};

on_both_backends!(
    a_disabled_account_cannot_sign_in_and_its_session_stops,
    a_reset_password_replaces_the_old_one_and_ends_sessions,
    a_revoked_device_stops_with_its_sessions,
    outside_the_jurisdiction_answers_404_and_changes_nothing,
    an_administrator_cannot_disable_their_own_account,
);

const PASSWORD: &str = "mat-khau-dai-1";

/// Creates a staff account as the province administrator; returns its id.
async fn staff(app: &TestApp, username: &str, role: &str, unit: &str) -> i64 {
    let res = app
        .post(
            "/api/v1/staff",
            Some(&app.admin),
            &json!({"username": username, "password": PASSWORD, "role": role, "unit_code": unit}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// Signs in; the status and the answer.
async fn login(app: &TestApp, username: &str, password: &str) -> (u16, Value) {
    let res = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"username": username, "password": password}),
        )
        .await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// The session token of a successful sign-in.
async fn session(app: &TestApp, username: &str, password: &str) -> String {
    let (status, body) = login(app, username, password).await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

/// The status of an authenticated read that every staff role may make.
async fn works(app: &TestApp, token: &str) -> u16 {
    app.get("/api/v1/locations", Some(token))
        .await
        .status()
        .as_u16()
}

/// The actions the audit log holds about a subject, newest first (read by the province administrator).
async fn audited(app: &TestApp, subject: &str) -> Vec<(String, String)> {
    let body = app
        .get_json(
            &format!("/api/v1/audit?subject={subject}"),
            Some(&app.admin),
        )
        .await;
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["actor"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The actor the audit log names for the tests' province administrator token.
async fn admin_actor(app: &TestApp) -> String {
    app.state
        .principal_of(&app.admin)
        .await
        .unwrap()
        .unwrap()
        .actor
}

async fn a_disabled_account_cannot_sign_in_and_its_session_stops(app: TestApp) {
    let id = staff(&app, "can.bo.xa", "officer", COMMUNE).await;
    let token = session(&app, "can.bo.xa", PASSWORD).await;
    assert_eq!(works(&app, &token).await, 200);
    let (_, wrong) = login(&app, "can.bo.xa", "not-the-password").await;

    let res = app
        .post(
            &format!("/api/v1/staff/{id}/disable"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(res.json::<Value>().await.unwrap()["sessions_revoked"], 1);
    assert_eq!(works(&app, &token).await, 401, "the open session ended");
    let (status, body) = login(&app, "can.bo.xa", PASSWORD).await;
    assert_eq!(status, 401);
    assert_eq!(
        (&body["error"], &body["message"], &body["detail"]),
        (&wrong["error"], &wrong["message"], &wrong["detail"]),
        "a disabled account answers as a wrong password"
    );
    let listed = app.get_json("/api/v1/staff", Some(&app.admin)).await;
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap()
        .clone();
    assert!(row["disabled_at"].is_i64(), "{row}");

    let res = app
        .post(
            &format!("/api/v1/staff/{id}/enable"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let token = session(&app, "can.bo.xa", PASSWORD).await;
    assert_eq!(works(&app, &token).await, 200);
    assert_eq!(
        works(&app, &session(&app, "can.bo.xa", PASSWORD).await).await,
        200
    );

    let actor = admin_actor(&app).await;
    let log = audited(&app, &format!("staff:{id}")).await;
    assert!(
        log.contains(&("staff.disable".into(), actor.clone())),
        "{log:?}"
    );
    assert!(log.contains(&("staff.enable".into(), actor)), "{log:?}");
}

async fn a_reset_password_replaces_the_old_one_and_ends_sessions(app: TestApp) {
    let id = staff(&app, "y.te.xa", "health", COMMUNE).await;
    let token = session(&app, "y.te.xa", PASSWORD).await;
    let path = format!("/api/v1/staff/{id}/password");

    let res = app
        .post(&path, Some(&app.admin), &json!({"password": "short"}))
        .await;
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["fields"][0]["field"], "password", "{body}");
    assert_eq!(
        works(&app, &token).await,
        200,
        "a refused reset changes nothing"
    );

    let res = app
        .post(
            &path,
            Some(&app.admin),
            &json!({"password": "mat-khau-moi-2"}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(works(&app, &token).await, 401, "the old session ended");
    assert_eq!(login(&app, "y.te.xa", PASSWORD).await.0, 401);
    let token = session(&app, "y.te.xa", "mat-khau-moi-2").await;
    assert_eq!(works(&app, &token).await, 200);

    let log = audited(&app, &format!("staff:{id}")).await;
    assert!(
        log.contains(&("staff.password".into(), admin_actor(&app).await)),
        "{log:?}"
    );
}

/// The session cookie a device sign-in sets.
fn cookie_of(res: &reqwest::Response) -> String {
    let set = res
        .headers()
        .get(reqwest::header::SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap();
    set.split(';').next().unwrap().to_owned()
}

async fn a_revoked_device_stops_with_its_sessions(app: TestApp) {
    let res = app
        .post(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "Điện thoại chốt 1", "role": "checkpoint", "unit_code": COMMUNE}),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let (id, token) = (
        created["id"].as_i64().unwrap(),
        created["token"].as_str().unwrap(),
    );
    // The enrolment QR: the scanner page with the token in the fragment, which no server sees.
    assert_eq!(
        created["enrol_url"],
        format!("{}/scan#device={token}", app.url)
    );
    assert!(created["enrol_qr_svg"].as_str().unwrap().contains("<svg"));

    let signed_in = app
        .post("/api/v1/auth/device", None, &json!({"token": token}))
        .await;
    assert_eq!(signed_in.status(), 200);
    let cookie = cookie_of(&signed_in);
    let by_cookie = |app: &TestApp| {
        app.client
            .get(app.at("/api/v1/locations"))
            .header(reqwest::header::COOKIE, cookie.clone())
            .send()
    };
    assert_eq!(works(&app, token).await, 200);
    assert_eq!(by_cookie(&app).await.unwrap().status(), 200);

    let res = app
        .post(
            &format!("/api/v1/devices/{id}/revoke"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    assert_eq!(works(&app, token).await, 401, "the token stopped");
    assert_eq!(
        by_cookie(&app).await.unwrap().status(),
        401,
        "the browser session signed in with it stopped"
    );
    let again = app
        .post("/api/v1/auth/device", None, &json!({"token": token}))
        .await;
    assert_eq!(again.status(), 401);
    let devices = app.get_json("/api/v1/devices", Some(&app.admin)).await;
    let row = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(row["revoked"], true);

    let log = audited(&app, &format!("token:{id}")).await;
    assert!(
        log.contains(&("token.revoke".into(), admin_actor(&app).await)),
        "{log:?}"
    );

    // A token for an integration has no enrolment QR.
    let other: Value = app
        .post_json(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "Báo cáo", "role": "health", "unit_code": COMMUNE}),
        )
        .await;
    assert!(other["enrol_qr_svg"].is_null(), "{other}");
}

async fn outside_the_jurisdiction_answers_404_and_changes_nothing(app: TestApp) {
    let commune_admin = app.token(Role::Admin, COMMUNE).await;
    let elsewhere = staff(&app, "can.bo.huyen.khac", "officer", OTHER_COMMUNE).await;
    let token = session(&app, "can.bo.huyen.khac", PASSWORD).await;
    let device: Value = app
        .post_json(
            "/api/v1/tokens",
            Some(&app.admin),
            &json!({"name": "Chốt khác", "role": "checkpoint", "unit_code": OTHER_COMMUNE}),
        )
        .await;
    let device_id = device["id"].as_i64().unwrap();
    let unknown = 999_999;
    let calls = |id: i64, device: i64| {
        [
            (format!("/api/v1/staff/{id}/disable"), json!({})),
            (format!("/api/v1/staff/{id}/enable"), json!({})),
            (
                format!("/api/v1/staff/{id}/password"),
                json!({"password": "mat-khau-khac-3"}),
            ),
            (format!("/api/v1/devices/{device}/revoke"), json!({})),
        ]
    };
    let audit_rows = app.count("audit_log").await;
    for ((outside, body), (missing, _)) in calls(elsewhere, device_id)
        .into_iter()
        .zip(calls(unknown, unknown))
    {
        let res = app.post(&outside, Some(&commune_admin), &body).await;
        assert_eq!(res.status(), 404, "{outside}");
        let outside_body: Value = res.json().await.unwrap();
        let missing_body = app.post_json(&missing, Some(&commune_admin), &body).await;
        assert_eq!(
            (&outside_body["error"], &outside_body["message"]),
            (&missing_body["error"], &missing_body["message"]),
            "{outside} answers like an unknown id"
        );
        // Other roles may not administer at all.
        let res = app.post(&outside, Some(&app.officer), &body).await;
        assert_eq!(res.status(), 403, "{outside}");
    }
    assert_eq!(app.count("audit_log").await, audit_rows, "nothing audited");
    assert_eq!(works(&app, &token).await, 200, "the account still works");
    assert_eq!(
        works(&app, device["token"].as_str().unwrap()).await,
        200,
        "the device still works"
    );
    assert_eq!(login(&app, "can.bo.huyen.khac", PASSWORD).await.0, 200);
}

async fn an_administrator_cannot_disable_their_own_account(app: TestApp) {
    let id = staff(&app, "quan.tri.tinh", "admin", "94").await;
    let token = session(&app, "quan.tri.tinh", PASSWORD).await;
    let res = app
        .post(
            &format!("/api/v1/staff/{id}/disable"),
            Some(&token),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 409);
    assert_eq!(works(&app, &token).await, 200);
    // Another administrator may, and the session ends.
    let res = app
        .post(
            &format!("/api/v1/staff/{id}/disable"),
            Some(&app.admin),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(works(&app, &token).await, 401);
}
