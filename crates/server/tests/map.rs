//! The public map layers (issue 10): communes and districts as GeoJSON from the boundaries, with cases of the
//! last 7 days, cached with an entity tag and gzip, on both backends.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, TestApp};
use kiemdich_domain::{UnitCode, UnitLevel, UnitTree};
use kiemdich_store::NewBoundary;
use serde_json::{Value, json};
use std::collections::HashMap;

on_both_backends!(
    the_province_communes_layer_is_small_shared_and_counts_cases,
    a_district_or_commune_layer_and_bad_units,
    cached_layers_answer_304_and_invalidate,
    a_decision_shows_on_the_public_layer_at_once,
);

async fn layer(
    app: &TestApp,
    path: &str,
) -> (reqwest::StatusCode, reqwest::header::HeaderMap, Value) {
    let res = app.get(path, None).await;
    let (status, headers) = (res.status(), res.headers().clone());
    (status, headers, res.json().await.unwrap())
}

fn features(v: &Value) -> &Vec<Value> {
    v["features"].as_array().unwrap()
}

fn by_code(v: &Value) -> HashMap<String, &Value> {
    features(v)
        .iter()
        .map(|f| (f["properties"]["code"].as_str().unwrap().to_owned(), f))
        .collect()
}

/// How many times the features' rings use each undirected edge.
fn edge_uses(v: &Value) -> HashMap<(String, String), usize> {
    let mut uses = HashMap::new();
    for f in features(v) {
        for poly in f["geometry"]["coordinates"].as_array().unwrap() {
            for ring in poly.as_array().unwrap() {
                let ring = ring.as_array().unwrap();
                for w in ring.windows(2) {
                    let (a, b) = (w[0].to_string(), w[1].to_string());
                    let key = if a <= b { (a, b) } else { (b, a) };
                    *uses.entry(key).or_insert(0) += 1;
                }
            }
        }
    }
    uses
}

async fn the_province_communes_layer_is_small_shared_and_counts_cases(app: TestApp) {
    common::load_geometry(&app).await;
    app.confirmed_case(0, 0).await;
    app.confirmed_case(3, 0).await;
    let (status, headers, all) = layer(&app, "/api/v1/public/communes.geojson").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/geo+json");
    assert_eq!(headers["cache-control"], "public, max-age=60");
    assert_eq!(all["type"], "FeatureCollection");
    let communes = by_code(&all);
    assert_eq!(communes.len(), 109);
    let one = communes[COMMUNE];
    assert_eq!(one["type"], "Feature");
    assert_eq!(one["geometry"]["type"], "MultiPolygon");
    let p = &one["properties"];
    assert_eq!(p["district_code"], "941");
    assert!(p["name"].as_str().unwrap().starts_with("Phường"), "{p}");
    assert_eq!(p["cases_7d"], 1);
    for field in ["level", "decision"] {
        assert!(
            p.get(field).is_some_and(Value::is_null),
            "no decision yet: {field} in {p}"
        );
    }
    // The computed suggestion is there beside it (the last full week: no cases, so the lowest level).
    assert!(
        (1..=4).contains(&p["level_computed"].as_i64().unwrap()),
        "{p}"
    );
    assert_eq!(p["boundary_source"], "illustrative demo geometry");
    assert_eq!(communes[OTHER_COMMUNE]["properties"]["cases_7d"], 1);
    let total: i64 = communes
        .values()
        .map(|f| f["properties"]["cases_7d"].as_i64().unwrap())
        .sum();
    assert_eq!(total, 2);
    // Neighbours share their borders: no edge is drawn by three communes (a sliver), and most edges by two.
    let uses = edge_uses(&all);
    assert!(
        uses.values().all(|&n| n <= 2),
        "an edge used more than twice"
    );
    let shared = uses.values().filter(|&&n| n == 2).count();
    assert!(
        shared * 2 > uses.len(),
        "{shared} of {} edges shared",
        uses.len()
    );

    // Gzipped when asked, under 300 KB.
    let res = app
        .client
        .get(format!("{}/api/v1/public/communes.geojson", app.url))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let gz = res.bytes().await.unwrap();
    assert!(gz.len() < 300 * 1024, "{} bytes gzipped", gz.len());
    assert!(gz.starts_with(&[0x1f, 0x8b]));

    // Districts: 11, their cases summed from their communes.
    let (status, _, districts) = layer(&app, "/api/v1/public/districts.geojson").await;
    assert_eq!(status, 200);
    let districts = by_code(&districts);
    assert_eq!(districts.len(), 11);
    assert_eq!(districts["941"]["properties"]["cases_7d"], 1);
    assert_eq!(districts["941"]["properties"]["province_code"], "94");
    let summed: i64 = districts
        .values()
        .map(|f| f["properties"]["cases_7d"].as_i64().unwrap())
        .sum();
    assert_eq!(summed, 2);
}

async fn a_district_or_commune_layer_and_bad_units(app: TestApp) {
    common::load_geometry(&app).await;
    let (status, _, district) = layer(&app, "/api/v1/public/communes.geojson?unit=941").await;
    assert_eq!(status, 200);
    let units = UnitTree::new(common::soctrang_units());
    let expected = units
        .children(&UnitCode::parse("941").unwrap())
        .filter(|u| u.level == UnitLevel::Commune)
        .count();
    assert_eq!(features(&district).len(), expected);
    assert!(
        features(&district)
            .iter()
            .all(|f| f["properties"]["district_code"] == "941")
    );
    let (status, _, one) = layer(
        &app,
        &format!("/api/v1/public/communes.geojson?unit={COMMUNE}"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(features(&one).len(), 1);
    // The store finds boundaries by bounding box: around the commune's own point, it and its district, never
    // Vĩnh Châu (950) on the coast.
    let today = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    let ring = &by_code(&one)[COMMUNE]["geometry"]["coordinates"][0][0][0];
    let (lon, lat) = (ring[0].as_f64().unwrap(), ring[1].as_f64().unwrap());
    let near = kiemdich_geometry::BBox {
        min_lon: lon - 1e-4,
        min_lat: lat - 1e-4,
        max_lon: lon + 1e-4,
        max_lat: lat + 1e-4,
    };
    let found: Vec<String> = app
        .store
        .boundaries_in_bbox(today, &near)
        .await
        .unwrap()
        .into_iter()
        .map(|b| b.unit.to_string())
        .collect();
    assert!(
        found.contains(&COMMUNE.to_owned()) && found.contains(&"941".to_owned()),
        "{found:?}"
    );
    assert!(!found.contains(&"950".to_owned()), "{found:?}");
    // Unknown units are not found; malformed codes are field errors.
    let (status, _, body) = layer(&app, "/api/v1/public/communes.geojson?unit=99").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = layer(&app, "/api/v1/public/districts.geojson?unit=31498").await;
    assert_eq!(status, 404, "{body}");
    let (status, _, body) = layer(&app, "/api/v1/public/communes.geojson?unit=abc").await;
    assert!(status.is_client_error(), "{status}");
    assert_eq!(body["fields"][0]["field"], "unit", "{body}");
}

async fn cached_layers_answer_304_and_invalidate(app: TestApp) {
    common::load_geometry(&app).await;
    let path = "/api/v1/public/communes.geojson?unit=941";
    let res = app.get(path, None).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let first: Value = res.json().await.unwrap();
    let again = app.get_with(path, "if-none-match", &etag).await;
    assert_eq!(again.status(), 304);
    assert_eq!(again.headers()["etag"], etag.as_str());
    // A new boundary from today for one commune of 941, and the hook that risk decisions call too: the next
    // request shows it, under a new tag.
    let today = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp());
    let square = kiemdich_geometry::MultiPolygon {
        polygons: vec![kiemdich_geometry::Polygon {
            rings: vec![vec![
                [105.96, 9.59],
                [105.98, 9.59],
                [105.98, 9.61],
                [105.96, 9.61],
                [105.96, 9.59],
            ]],
        }],
    };
    app.store
        .upsert_boundaries(&[NewBoundary {
            unit: UnitCode::parse(COMMUNE).unwrap(),
            geometry: square,
            valid_from: today,
            source: "test".into(),
        }])
        .await
        .unwrap();
    app.state.invalidate_map();
    let res = app.get_with(path, "if-none-match", &etag).await;
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"], etag.as_str());
    let now: Value = res.json().await.unwrap();
    assert_ne!(
        by_code(&now)[COMMUNE]["geometry"],
        by_code(&first)[COMMUNE]["geometry"]
    );
    let ring = &by_code(&now)[COMMUNE]["geometry"]["coordinates"][0][0];
    assert_eq!(ring.as_array().unwrap().len(), 5, "{ring}");
}

async fn a_decision_shows_on_the_public_layer_at_once(app: TestApp) {
    common::load_geometry(&app).await;
    let path = "/api/v1/public/communes.geojson";
    let (_, _, before) = layer(&app, path).await;
    let p = &by_code(&before)[COMMUNE]["properties"];
    assert!(p["level"].is_null() && p["decision"].is_null(), "{p}");
    assert!(p.get("level_computed").is_some(), "{p}");
    let today = app
        .state
        .rules
        .tracing
        .local_date(chrono::Utc::now().timestamp())
        .to_string();
    let decision = |level: u8| {
        json!({"number": "136/QĐ-SYT", "date": today, "issued_by": "Sở Y tế", "effective_from": today,
               "levels": [{"unit": COMMUNE, "level": level}, {"unit": OTHER_COMMUNE, "level": 1}]})
    };
    let res = app
        .post("/api/v1/risk-decisions", Some(&app.health), &decision(5))
        .await;
    assert_eq!(res.status(), 422, "a level outside 1–4");
    let (_, _, unchanged) = layer(&app, path).await;
    assert!(by_code(&unchanged)[COMMUNE]["properties"]["level"].is_null());
    let res = app
        .post("/api/v1/risk-decisions", Some(&app.health), &decision(3))
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let (_, _, after) = layer(&app, path).await;
    let p = &by_code(&after)[COMMUNE]["properties"];
    assert_eq!(p["level"], 3, "the new official level at once: {p}");
    assert_eq!(p["decision"], "136/QĐ-SYT");
    assert_eq!(by_code(&after)[OTHER_COMMUNE]["properties"]["level"], 1);
    // The public page names the decision and gives each commune its level in words.
    let html = app.get("/public", None).await.text().await.unwrap();
    assert!(html.contains("136/QĐ-SYT"), "the decision in force");
    assert!(html.contains("Cấp 3"), "levels in words");
}
