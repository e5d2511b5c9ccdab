//! The answers that became typed views (issue 9) keep their fields: each answer's exact set of keys, as API
//! clients and the pages' scripts read them, and times in RFC 3339. An outbox row whose channel is not one
//! the system writes is a corrupt row, not a message shown as it is; so is a staff account or token whose role or
//! unit is not one. On both backends.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, RESIDENTS, TestApp, person};
use kiemdich_domain::Visit;
use serde_json::{Value, json};

on_both_backends!(
    staff_device_session_key_and_audit_answers_keep_their_fields,
    declaration_and_code_answers_keep_their_fields,
    ops_answers_keep_their_fields,
    an_outbox_row_with_an_unknown_channel_is_corrupt,
    a_chain_answer_keeps_its_fields,
    a_staff_or_token_row_with_a_role_or_unit_never_written_is_corrupt,
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
    let staff = app.get_json("/api/v1/staff", admin).await;
    let listed = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == id)
        .unwrap();
    assert_eq!(
        keys(listed),
        [
            "created_at",
            "disabled_at",
            "id",
            "role",
            "unit_code",
            "username"
        ]
    );
    assert_eq!(
        (&listed["role"], &listed["unit_code"]),
        (&json!("officer"), &json!(COMMUNE))
    );

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
    let listed = devices
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "Chốt cầu Quản Lộ")
        .unwrap();
    assert_eq!(
        keys(listed),
        ["id", "location_id", "name", "revoked", "role", "unit_code"]
    );
    assert_eq!(
        (&listed["role"], &listed["unit_code"]),
        (&json!("checkpoint"), &json!(COMMUNE))
    );
    let device_id = listed["id"].as_i64().unwrap();
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

/// Case `id`'s chain in `format`, as a health officer.
async fn chain_as(app: &TestApp, id: i64, format: &str) -> String {
    let path = format!("/api/v1/cases/{id}/chain?format={format}");
    let res = app.get(&path, Some(&app.health)).await;
    assert_eq!(res.status(), 200, "{path}");
    res.text().await.unwrap()
}

async fn a_chain_answer_keeps_its_fields(app: TestApp) {
    // An (0) and Bé (1) shared 30 minutes at a market five days ago; An is a case, Bé her confirmed contact.
    let market = app.location("market", COMMUNE).await;
    let rules = &app.state.rules.tracing;
    let day = rules.local_date(chrono::Utc::now().timestamp()) - chrono::Duration::days(5);
    let t0 = rules.day_start(day) + 8 * 3600;
    let stay = |who: usize, from: i64, to: i64| Visit {
        location_id: market,
        citizen: RESIDENTS[who].0.parse().unwrap(),
        entered_at: t0 + from * 60,
        exited_at: Some(t0 + to * 60),
    };
    app.store
        .import_visits(&[stay(0, 0, 60), stay(1, 30, 90)])
        .await
        .unwrap();
    let health = Some(app.health.as_str());
    let body = json!({"citizen_id": RESIDENTS[0].0, "onset_date": day.to_string()});
    let case = post(&app, "/api/v1/cases", health, body, 201).await;
    let f0 = case["id"].as_i64().unwrap();
    let trace = post(
        &app,
        &format!("/api/v1/cases/{f0}/trace"),
        health,
        json!({}),
        200,
    )
    .await;
    let body = json!({"trace_id": trace["trace_id"]});
    let confirmed = post(
        &app,
        &format!("/api/v1/cases/{f0}/confirm"),
        health,
        body,
        201,
    )
    .await;
    let opened = &confirmed["confirmed"][0];
    assert_eq!(
        keys(opened),
        ["case_id", "citizen_id", "classification", "revoked_passes"]
    );
    assert_eq!(
        (&opened["citizen_id"], &opened["classification"]),
        (&json!(RESIDENTS[1].0), &json!("f1"))
    );
    let f1 = opened["case_id"].as_i64().unwrap();

    let chain = app
        .get_json(&format!("/api/v1/cases/{f1}/chain"), health)
        .await;
    assert_eq!(keys(&chain), ["case_id", "cases", "links"]);
    assert_eq!(
        chain["case_id"], f1,
        "the case asked for, not the chain's root"
    );
    let cases = chain["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "{chain}");
    for c in cases {
        assert_eq!(
            keys(c),
            [
                "active",
                "citizen_id",
                "classification",
                "commune_code",
                "counted_on",
                "created_at",
                "created_by",
                "detected_in",
                "id",
                "isolated_date",
                "onset_date",
                "quarantine_until",
                "rule_version",
                "sample_date",
                "source",
                "source_case_id",
                "state",
                "vaccinated"
            ]
        );
        assert!(is_rfc3339(&c["created_at"]), "{c}");
    }
    assert_eq!(
        (&cases[0]["id"], &cases[1]["source_case_id"]),
        (&json!(f0), &json!(f0))
    );
    let links = chain["links"].as_array().unwrap();
    assert_eq!(links.len(), 1, "{chain}");
    assert_eq!(keys(&links[0]), ["exposures", "from_case", "to_case"]);
    assert_eq!(
        (&links[0]["from_case"], &links[0]["to_case"]),
        (&json!(f0), &json!(f1))
    );
    let evidence = &links[0]["exposures"][0];
    assert_eq!(keys(evidence), ["from", "location_id", "minutes", "to"]);
    assert_eq!(
        (&evidence["location_id"], &evidence["minutes"]),
        (&json!(market), &json!(30))
    );
    assert!(
        is_rfc3339(&evidence["from"]) && is_rfc3339(&evidence["to"]),
        "{evidence}"
    );
    // DOT and CSV read the same chain.
    let csv = chain_as(&app, f1, "csv").await;
    assert_eq!(
        csv.lines().nth(1).unwrap(),
        format!(
            "{f0},{f1},{market},{},{},30",
            evidence["from"].as_str().unwrap(),
            evidence["to"].as_str().unwrap()
        )
    );
    let dot = chain_as(&app, f1, "dot").await;
    assert!(
        dot.contains(&format!("c{f0} -> c{f1} [label=\"30 min\"]"))
            && dot.contains(&format!("F1 #{f1}\\n{}", RESIDENTS[1].0)),
        "{dot}"
    );
}

async fn a_staff_or_token_row_with_a_role_or_unit_never_written_is_corrupt(app: TestApp) {
    let admin = Some(app.admin.as_str());
    let body = json!({"username": "can.bo.hong", "password": "mat-khau-dai-1", "role": "officer", "unit_code": COMMUNE});
    let staff = post(&app, "/api/v1/staff", admin, body, 201).await;
    let token = new_token(&app, "Chốt chợ", "checkpoint").await;
    assert_eq!(app.get("/api/v1/staff", admin).await.status(), 200);
    assert_eq!(app.get("/api/v1/devices", admin).await.status(), 200);
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    let corrupt = |sql: String| {
        let db = &db;
        async move {
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(db)
                .await
                .unwrap();
        }
    };
    corrupt(format!(
        "UPDATE staff SET role = 'chief' WHERE id = {}",
        staff["id"]
    ))
    .await;
    corrupt(format!(
        "UPDATE api_tokens SET unit_code = 'Soc Trang' WHERE id = {}",
        token["id"]
    ))
    .await;
    for path in ["/api/v1/staff", "/api/v1/devices"] {
        let res = app.get(path, admin).await;
        assert_eq!(res.status(), 500, "{path}: {}", res.text().await.unwrap());
    }
}
