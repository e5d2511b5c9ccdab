//! The answers that became typed views (issue 9) keep their fields: each answer's exact set of keys, as API
//! clients and the pages' scripts read them, and times in RFC 3339. An outbox row whose channel is not one
//! the system writes is a corrupt row, not a message shown as it is. On both backends.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, RESIDENTS, TestApp, person};
use serde_json::{Value, json};

on_both_backends!(
    staff_device_session_key_and_audit_answers_keep_their_fields,
    declaration_and_code_answers_keep_their_fields,
    ops_answers_keep_their_fields,
    an_outbox_row_with_an_unknown_channel_is_corrupt,
);

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut k: Vec<&str> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect();
    k.sort_unstable();
    k
}

/// Whether `v` is a UTC time as the API writes them: `2026-11-29T07:37:45Z`.
fn is_rfc3339(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 20 && s.ends_with('Z') && chrono::DateTime::parse_from_rfc3339(s).is_ok()
    })
}

/// POSTs as `token`, asserts the status and returns the answer.
async fn post(app: &TestApp, path: &str, token: Option<&str>, body: Value, status: u16) -> Value {
    let res = app.post(path, token, &body).await;
    let code = res.status().as_u16();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(code, status, "{path}: {answer}");
    answer
}

/// An administrator's action without a body (disable, enable, revoke, rotate), answered 200: the answer.
async fn admin_action(app: &TestApp, path: &str) -> Value {
    post(app, path, Some(&app.admin), json!({}), 200).await
}

/// A new token named `name` with `role` over [`COMMUNE`], as the province administrator: the answer.
async fn new_token(app: &TestApp, name: &str, role: &str) -> Value {
    let body = json!({"name": name, "role": role, "unit_code": COMMUNE});
    post(app, "/api/v1/tokens", Some(&app.admin), body, 201).await
}

async fn staff_device_session_key_and_audit_answers_keep_their_fields(app: TestApp) {
    let admin = Some(app.admin.as_str());
    let created = post(
        &app,
        "/api/v1/staff",
        admin,
        json!({"username": "can.bo.tra", "password": "mat-khau-dai-1", "role": "officer", "unit_code": COMMUNE}),
        201,
    )
    .await;
    assert_eq!(keys(&created), ["id", "role", "unit_code", "username"]);
    assert_eq!(
        (&created["role"], &created["unit_code"]),
        (&json!("officer"), &json!(COMMUNE))
    );
    let id = created["id"].as_i64().unwrap();

    let login = post(
        &app,
        "/api/v1/auth/login",
        None,
        json!({"username": "can.bo.tra", "password": "mat-khau-dai-1"}),
        200,
    )
    .await;
    assert_eq!(keys(&login), ["expires_at", "role", "token", "unit_code"]);
    assert!(is_rfc3339(&login["expires_at"]), "{login}");

    let disabled = admin_action(&app, &format!("/api/v1/staff/{id}/disable")).await;
    assert_eq!(
        keys(&disabled),
        ["disabled", "id", "sessions_revoked", "username"]
    );
    assert_eq!(
        (&disabled["disabled"], &disabled["sessions_revoked"]),
        (&json!(true), &json!(1))
    );
    let enabled = admin_action(&app, &format!("/api/v1/staff/{id}/enable")).await;
    assert_eq!(keys(&enabled), ["disabled", "id", "username"]);
    assert_eq!(enabled["disabled"], false);
    let reset = post(
        &app,
        &format!("/api/v1/staff/{id}/password"),
        admin,
        json!({"password": "mat-khau-moi-22"}),
        200,
    )
    .await;
    assert_eq!(keys(&reset), ["id", "sessions_revoked", "username"]);

    let integration = new_token(&app, "Cổng dữ liệu", "health").await;
    assert_eq!(
        keys(&integration),
        [
            "enrol_qr_svg",
            "enrol_url",
            "id",
            "location_id",
            "role",
            "token",
            "unit_code"
        ]
    );
    assert_eq!(
        (
            &integration["enrol_url"],
            &integration["enrol_qr_svg"],
            &integration["location_id"]
        ),
        (&Value::Null, &Value::Null, &Value::Null),
        "only a scanning device is enrolled by QR"
    );
    let scanner = new_token(&app, "Chốt cầu Quản Lộ", "checkpoint").await;
    assert!(
        scanner["enrol_url"]
            .as_str()
            .unwrap()
            .contains("/scan#device=")
            && scanner["enrol_qr_svg"].as_str().unwrap().contains("<svg"),
        "{scanner}"
    );
    let device = post(
        &app,
        "/api/v1/auth/device",
        None,
        json!({"token": scanner["token"]}),
        200,
    )
    .await;
    assert_eq!(keys(&device), ["location_id", "role", "unit_code"]);
    assert_eq!(device["role"], "checkpoint");
    let devices = app.get_json("/api/v1/devices", admin).await;
    let device_id = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Chốt cầu Quản Lộ")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let revoked = admin_action(&app, &format!("/api/v1/devices/{device_id}/revoke")).await;
    assert_eq!(keys(&revoked), ["id", "revoked", "tokens_revoked"]);
    assert_eq!(
        (&revoked["revoked"], &revoked["tokens_revoked"]),
        (&json!(true), &json!(2)),
        "the device token and the browser session signed in with it"
    );

    let rotated = admin_action(&app, "/api/v1/keys/rotate").await;
    assert_eq!(keys(&rotated), ["kid"]);
    assert!(!rotated["kid"].as_str().unwrap().is_empty());

    let trail = app
        .get_json(&format!("/api/v1/audit?subject=staff:{id}"), admin)
        .await;
    assert_eq!(keys(&trail), ["entries", "subject"]);
    assert_eq!(trail["subject"], format!("staff:{id}"));
    let entries = trail["entries"].as_array().unwrap();
    assert!(entries.len() >= 3, "{trail}");
    for e in entries {
        assert_eq!(keys(e), ["action", "actor", "at", "detail", "subject"]);
        assert!(is_rfc3339(&e["at"]), "{e}");
    }
}

async fn declaration_and_code_answers_keep_their_fields(app: TestApp) {
    let sent = post(
        &app,
        "/api/v1/otp",
        None,
        json!({"citizen_id": RESIDENTS[0].0}),
        202,
    )
    .await;
    assert_eq!(keys(&sent), ["challenge_id", "expires_at", "message"]);
    assert!(is_rfc3339(&sent["expires_at"]), "{sent}");
    assert!(!sent["message"].as_str().unwrap().is_empty());

    let answer = app.declare(vec![person(0)]).await;
    assert_eq!(keys(&answer), ["declaration_id", "people"]);
    let p = &answer["people"][0];
    assert_eq!(
        keys(p),
        [
            "citizen_id",
            "full_name",
            "identity_check",
            "mismatched_fields",
            "pass",
            "status"
        ]
    );
    assert_eq!(
        (&p["identity_check"], &p["status"], &p["full_name"]),
        (&json!("matched"), &json!("green"), &json!(RESIDENTS[0].1))
    );
    assert_eq!(keys(&p["pass"]), ["expires_at", "id", "token"]);
    assert!(is_rfc3339(&p["pass"]["expires_at"]), "{p}");

    let id = answer["declaration_id"].as_i64().unwrap();
    let stored = app
        .get_json(&format!("/api/v1/declarations/{id}"), Some(&app.officer))
        .await;
    assert_eq!(
        keys(&stored),
        ["declaration_id", "form", "submitted_at", "submitter"]
    );
    assert!(is_rfc3339(&stored["submitted_at"]), "{stored}");
    assert_eq!(stored["submitter"]["kind"], "officer");
    assert_eq!(keys(&stored["form"]), ["consent", "people"]);
    assert_eq!(stored["form"]["people"][0]["full_name"], RESIDENTS[0].1);
}

async fn ops_answers_keep_their_fields(app: TestApp) {
    let live = app.get_json("/healthz", None).await;
    assert_eq!(live, json!({"status": "ok"}));
    let res = app.get("/readyz", None).await;
    assert_eq!(res.status(), 200);
    let ready: Value = res.json().await.unwrap();
    assert_eq!(keys(&ready), ["backend", "database", "signing_key"]);
    assert_eq!(
        (&ready["database"], &ready["signing_key"]),
        (&json!(true), &json!(true))
    );
}

async fn an_outbox_row_with_an_unknown_channel_is_corrupt(app: TestApp) {
    // A message the system queued reads back with its channel.
    app.post("/api/v1/otp", None, &json!({"citizen_id": RESIDENTS[0].0}))
        .await;
    let res = app.get("/api/v1/outbox", Some(&app.admin)).await;
    assert_eq!(res.status(), 200);
    let listed: Value = res.json().await.unwrap();
    assert_eq!(listed[0]["channel"], "sms", "{listed}");
    // One it never writes (already sent, so that the sender leaves it alone) is refused when read.
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO outbox (channel, recipient, body, created_at, unit_code, secret, sent_at) \
         VALUES ('fax', '0299 3822 000', 'x', 1, '{COMMUNE}', 0, 1)"
    )))
    .execute(&db)
    .await
    .unwrap();
    let res = app.get("/api/v1/outbox", Some(&app.admin)).await;
    assert_eq!(res.status(), 500, "{}", res.text().await.unwrap());
}
