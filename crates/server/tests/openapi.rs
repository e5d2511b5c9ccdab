//! The OpenAPI document the server answers at `/api/v1/openapi.json`. It is built from the route table, so every
//! route is in it by construction; what can still go wrong is checked here: a snapshot of the whole document
//! (an API change shows as a `.snap` diff in review), the document agreeing with itself (path parameters, unique
//! ids and summaries, tags, schema references), and each operation's `security` agreeing with what the server
//! answers a caller without credentials.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

mod common;

use common::{Backend, TestApp};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Documented as needing credentials, yet answered without: logging out with no token or cookie has nothing
/// to end and says so with 204.
const OPEN_ALTHOUGH_SECURED: &[(&str, &str)] = &[("post", "/api/v1/auth/logout")];

async fn served() -> (TestApp, Value) {
    let app = common::spawn(Backend::Sqlite).await.unwrap();
    let res = app.get("/api/v1/openapi.json", None).await;
    assert_eq!(res.status(), 200);
    let doc = res.json().await.unwrap();
    (app, doc)
}

/// Every operation of the document: path, method and the operation object.
fn operations(doc: &Value) -> Vec<(&str, &str, &Value)> {
    let mut all = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method != "parameters" {
                all.push((path.as_str(), method.as_str(), op));
            }
        }
    }
    all
}

/// Every `$ref` anywhere in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x) {
                    ("$ref", Value::String(r)) => out.push(r),
                    _ => refs(x, out),
                }
            }
        }
        Value::Array(xs) => xs.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_is_the_snapshot() {
    let (_app, mut doc) = served().await;
    assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    // A version bump alone is no API change.
    doc["info"]["version"] = json!("[version]");
    insta::assert_json_snapshot!("openapi", doc);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_agrees_with_itself() {
    let (_app, doc) = served().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    assert!(ops.len() >= 49, "{} operations", ops.len());

    for (path, item) in doc["paths"].as_object().unwrap() {
        let in_path: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
            .collect();
        let declared: BTreeSet<&str> = item["parameters"]
            .as_array()
            .map(|ps| {
                ps.iter()
                    .filter(|p| p["in"] == "path" && p["required"] == true)
                    .map(|p| p["name"].as_str().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(in_path, declared, "path parameters of {path}");
    }

    let mut ids = BTreeSet::new();
    let mut summaries = BTreeSet::new();
    let tags: BTreeSet<&str> = doc["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    let mut tags_used = BTreeSet::new();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    for (path, method, op) in &ops {
        let at = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap();
        assert!(ids.insert(id), "{at}: operationId {id} is taken");
        let summary = op["summary"].as_str().unwrap();
        assert!(!summary.is_empty(), "{at} has a summary");
        assert!(
            summaries.insert(summary),
            "{at}: summary {summary:?} is taken"
        );
        for tag in op["tags"].as_array().unwrap() {
            let tag = tag.as_str().unwrap();
            assert!(tags.contains(tag), "{at}: tag {tag} is not described");
            tags_used.insert(tag);
        }
        let responses = op["responses"].as_object().unwrap();
        assert!(
            responses.keys().any(|s| s.starts_with('2')) && responses.contains_key("4XX"),
            "{at}: a success and the refusal"
        );
        for requirement in op["security"].as_array().into_iter().flatten() {
            for scheme in requirement.as_object().unwrap().keys() {
                assert!(schemes.contains_key(scheme), "{at}: no scheme {scheme}");
            }
        }
    }
    assert_eq!(tags, tags_used, "every described tag has operations");

    let schemas = doc["components"]["schemas"].as_object().unwrap();
    let mut found = Vec::new();
    refs(&doc, &mut found);
    let referenced: BTreeSet<&str> = found
        .iter()
        .map(|r| {
            r.strip_prefix("#/components/schemas/")
                .filter(|name| schemas.contains_key(*name))
                .unwrap_or_else(|| panic!("{r} names no schema"))
        })
        .collect();
    let defined: BTreeSet<&str> = schemas.keys().map(String::as_str).collect();
    assert_eq!(referenced, defined, "every schema is used");
}

/// Each operation, called with no token or cookie (path parameters `1`, an empty JSON body): 401 exactly when
/// the document asks for security, and never 405 (the method is routed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_is_what_the_server_asks_of_an_anonymous_caller() {
    let (app, doc) = served().await;
    let mut wrong = Vec::new();
    for (path, method, op) in operations(&doc) {
        let url: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        let status = match method {
            "get" => app.get(&url, None).await.status(),
            "post" => app.post(&url, None, &json!({})).await.status(),
            "delete" => app.delete(&url, None).await.status(),
            "put" => app
                .client
                .put(app.at(&url))
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status(),
            other => panic!("{other} {path}: a method this test does not call"),
        };
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty())
            && !OPEN_ALTHOUGH_SECURED.contains(&(method, path));
        if status == 405 || (status == 401) != secured {
            wrong.push(format!("{method} {path}: {status}, secured: {secured}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
