//! The epidemiological map and the public page, on both backends: cases counted per commune inside the caller's
//! jurisdiction, places linked to cases clustered on the server, and the pages for staff and for everyone.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp};
use kiemdich_domain::Visit;
use serde_json::{Value, json};

on_both_backends!(
    the_staff_map_counts_cases_per_commune_inside_the_jurisdiction,
    places_linked_to_cases_are_clustered_for_the_view,
    the_public_page_names_no_one_and_the_staff_map_asks_for_an_account,
);

fn cases_at(rows: &Value, commune: &str) -> i64 {
    rows.as_array()
        .unwrap()
        .iter()
        .find(|r| r["code"] == commune)
        .map_or(-1, |r| r["cases"].as_i64().unwrap())
}

async fn the_staff_map_counts_cases_per_commune_inside_the_jurisdiction(app: TestApp) {
    app.confirmed_case(0, 1).await;
    app.confirmed_case(3, 2).await;
    // A case counted three weeks ago is outside the default week.
    app.confirmed_case(1, 20).await;
    let rows = app
        .get_json("/api/v1/map/communes", Some(&app.health))
        .await;
    assert_eq!(cases_at(&rows, COMMUNE), 1, "{rows}");
    assert_eq!(cases_at(&rows, OTHER_COMMUNE), 1);
    assert!(
        rows.as_array().unwrap().len() > 100,
        "every commune of the province, with none at 0"
    );
    let today = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    let month = format!(
        "/api/v1/map/communes?from={}",
        today - chrono::Duration::days(30)
    );
    assert_eq!(
        cases_at(&app.get_json(&month, Some(&app.health)).await, COMMUNE),
        2
    );
    let f1 = app
        .get_json("/api/v1/map/communes?class=f1", Some(&app.health))
        .await;
    assert_eq!(cases_at(&f1, COMMUNE), 0);
    // A commune officer sees their commune only; a checkpoint sees nothing.
    let own = app
        .get_json("/api/v1/map/communes", Some(&app.commune_officer))
        .await;
    assert_eq!(own.as_array().unwrap().len(), 1, "{own}");
    assert_eq!(cases_at(&own, COMMUNE), 1);
    assert_eq!(
        app.get("/api/v1/map/communes", Some(&app.checkpoint))
            .await
            .status(),
        403
    );
    // Bad filters are named by field.
    let bad = format!(
        "/api/v1/map/communes?from={}&to={}&class=f9",
        today,
        today - chrono::Duration::days(3)
    );
    let res = app.get(&bad, Some(&app.health)).await;
    assert_eq!(res.status(), 422);
    let err: Value = res.json().await.unwrap();
    let fields = common::error_fields(&err);
    assert!(
        fields.contains(&"class") && fields.contains(&"from"),
        "{err}"
    );
    let future = format!(
        "/api/v1/map/communes?to={}",
        today + chrono::Duration::days(2)
    );
    assert_eq!(app.get(&future, Some(&app.health)).await.status(), 422);
}

async fn places_linked_to_cases_are_clustered_for_the_view(app: TestApp) {
    let place = async |kind: &str, commune: &str, lat: f64, lon: f64| {
        let body = json!({"name": format!("Nơi {kind}"), "kind": kind, "commune_code": commune, "address": "QL1A", "lat": lat, "lon": lon});
        let res = app
            .post("/api/v1/locations", Some(&app.officer), &body)
            .await;
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
    };
    let market = place("market", COMMUNE, 9.60, 105.97).await;
    let hospital = place("hospital", OTHER_COMMUNE, 9.55, 105.90).await;
    let rules = &app.state.rules.tracing;
    let day = rules.local_date(chrono::Utc::now().timestamp()) - chrono::Duration::days(1);
    let t0 = rules.day_start(day) + 8 * 3600;
    let visit = |location_id, i: usize| Visit {
        location_id,
        citizen: RESIDENTS[i].0.parse().unwrap(),
        entered_at: t0,
        exited_at: Some(t0 + 3600),
    };
    app.store
        .import_visits(&[visit(market, 0), visit(hospital, 0)])
        .await
        .unwrap();
    let case = app.confirmed_case(0, 1).await;
    let res = app
        .post(
            &format!("/api/v1/cases/{case}/zones/publish"),
            Some(&app.health),
            &json!({}),
        )
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let province = "west=100&south=5&east=110&north=15";
    let close: Value = app
        .get_json(
            &format!("/api/v1/map/places?{province}&zoom=18"),
            Some(&app.health),
        )
        .await;
    let marks = close.as_array().unwrap();
    assert_eq!(marks.len(), 2, "two places apart at street zoom: {close}");
    assert!(
        marks
            .iter()
            .all(|m| m["place"]["name"].is_string() && m["cases"] == 1)
    );
    let far: Value = app
        .get_json(
            &format!("/api/v1/map/places?{province}&zoom=1"),
            Some(&app.health),
        )
        .await;
    assert_eq!(
        far.as_array().unwrap().len(),
        1,
        "one cluster at world zoom: {far}"
    );
    assert_eq!(far[0]["places"], 2);
    assert!(far[0]["place"].is_null());
    // Out of view, nothing; a view upside down is refused by field; a word for a number is refused.
    let away: Value = app
        .get_json(
            "/api/v1/map/places?west=0&south=0&east=1&north=1&zoom=10",
            Some(&app.health),
        )
        .await;
    assert_eq!(away, json!([]));
    let res = app
        .get(
            "/api/v1/map/places?west=110&south=15&east=100&north=5&zoom=10",
            Some(&app.health),
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .get(
            "/api/v1/map/places?west=abc&south=5&east=110&north=15&zoom=10",
            Some(&app.health),
        )
        .await;
    assert_eq!(res.status(), 422, "a JSON error, not axum's text");
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"], "invalid", "{err}");
    // The commune officer of the case's commune sees both places (the case is theirs); of another unit, none.
    let other = app
        .token(kiemdich_store::Role::Officer, OTHER_COMMUNE)
        .await;
    let theirs: Value = app
        .get_json(
            &format!("/api/v1/map/places?{province}&zoom=18"),
            Some(&other),
        )
        .await;
    assert_eq!(theirs, json!([]), "cases of other communes are not theirs");
}

async fn the_public_page_names_no_one_and_the_staff_map_asks_for_an_account(app: TestApp) {
    app.confirmed_case(0, 0).await;
    let res = app.get("/public", None).await;
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age"),
        "the public page is cacheable"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("Tình hình dịch"), "Vietnamese by default");
    assert!(html.contains("Phường 5"), "every commune in the table");
    for r in RESIDENTS {
        assert!(
            !html.contains(r.0) && !html.contains(r.1),
            "no person on the public page"
        );
    }
    // Signed in or not, the public page is the same: it never names who is looking.
    let signed_in = app
        .get_with("/public", "cookie", &format!("kd_session={}", app.health))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !signed_in.contains("data-logout"),
        "no account on the public page"
    );
    let home = app.get("/", None).await.text().await.unwrap();
    assert!(
        home.contains("href=\"/public\""),
        "linked from the home page"
    );

    let res = app.get("/map", None).await;
    let html = res.text().await.unwrap();
    assert!(
        html.contains("name=\"password\""),
        "the staff map asks for an account"
    );
    let html = app
        .get_with("/map", "cookie", &format!("kd_session={}", app.health))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"map\"") && html.contains("id=\"case-search\""),
        "{html}"
    );
    assert!(html.contains("/static/leaflet.js"));
    let leaflet = app.get("/static/leaflet.js", None).await;
    assert_eq!(leaflet.status(), 200, "Leaflet is served by the binary");
    assert!(leaflet.text().await.unwrap().contains("Leaflet 1.9.4"));
}
