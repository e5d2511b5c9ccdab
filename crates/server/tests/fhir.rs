//! The FHIR R4 facade under /fhir, on both backends: the CapabilityStatement, Patient searches and reads,
//! who may use it, jurisdiction, transactions refused whole with an OperationOutcome naming each entry, the
//! media types and the 8 MiB body limit. Every resource the facade answers with goes through an independent
//! R4 validator (the `fhir` npm package, tests/fhir-validator), and negative tests prove the validator catches
//! broken resources, so that its "valid" means something.
//!
//! The validator needs Node.js and `npm ci` in tests/fhir-validator; without them the validations are skipped
//! with a notice, except under CI, where that is a failure.

#![expect(clippy::unwrap_used, reason = "tests")]

#[macro_use]
mod common;

use common::{COMMUNE, OTHER_COMMUNE, RESIDENTS, TestApp};
use kiemdich_domain::{CitizenId, TestResult, TestType};
use kiemdich_server::fhir::bundle::Bundle;
use kiemdich_server::fhir::capability::CapabilityStatement;
use kiemdich_server::fhir::lab::LabResultOut;
use kiemdich_server::fhir::{
    DEFAULT_CITIZEN_SYSTEM, FhirError, ImmunizationOut, Problem, Recorded,
};
use kiemdich_store::Role;
use serde_json::{Value, json};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

on_both_backends!(
    metadata_needs_no_token,
    patients_are_found_by_citizen_id,
    patients_outside_reach_are_not_found,
    only_health_admin_and_integration_use_the_facade,
    transactions_are_checked_whole,
    unknown_people_refuse_the_transaction,
    large_transactions_are_read,
    media_types_are_fhir_json,
    immunizations_are_searched_by_patient,
    doses_are_recorded_once_and_served_back,
    lab_results_are_recorded_with_their_effects_once,
    lab_results_are_refused_outside_the_jurisdiction_and_to_other_roles,
    bad_lab_bundles_name_each_element_and_store_nothing,
);

const SYS: &str = DEFAULT_CITIZEN_SYSTEM;
const MP: &str = "https://ec.europa.eu/health/documents/community-register/html/";
/// The facade's own audit entries (the server audits other things in the background).
const FHIR_AUDIT: &str = "audit_log WHERE action LIKE 'fhir.%'";

// ---------------------------------------------------------------------------------------------------------
// The independent validator.

fn validator_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fhir-validator")
}

/// Whether node and the validator's modules are here; under CI their absence is a failure.
fn validator_present() -> bool {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let modules = validator_dir()
        .join("node_modules/fhir/package.json")
        .exists();
    if !(node && modules) {
        assert!(
            std::env::var_os("CI").is_none(),
            "the FHIR validator needs node and `npm ci` in crates/server/tests/fhir-validator"
        );
        eprintln!(
            "FHIR validation skipped: node or the fhir package (npm ci in tests/fhir-validator) is missing"
        );
    }
    node && modules
}

/// Each resource's result from the validator (`{valid, messages}`), in order; `None` when it is not installed.
fn validate(resources: &[Value]) -> Option<Vec<Value>> {
    if !validator_present() {
        return None;
    }
    let mut child = Command::new("node")
        .arg(validator_dir().join("validate.js"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&serde_json::to_vec(resources).unwrap())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "validator failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(results.len(), resources.len());
    Some(results)
}

/// Asserts that the validator finds every resource valid R4.
fn assert_valid(resources: &[Value]) {
    let Some(results) = validate(resources) else {
        return;
    };
    for (r, result) in resources.iter().zip(results) {
        assert_eq!(
            result["valid"], true,
            "the validator refuses {}:\n{:#}\n{:#}",
            r["resourceType"], result["messages"], r
        );
    }
}

/// Asserts that the validator refuses `resource`, with a message containing `expected`.
fn assert_invalid(resource: Value, expected: &str) {
    let Some(results) = validate(std::slice::from_ref(&resource)) else {
        return;
    };
    assert_eq!(
        results[0]["valid"], false,
        "the validator accepts {resource:#}"
    );
    let said = results[0]["messages"].to_string();
    assert!(said.contains(expected), "expected {expected:?} in {said}");
}

// ---------------------------------------------------------------------------------------------------------
// Helpers.

async fn fhir_get(app: &TestApp, path: &str, token: Option<&str>) -> (u16, String, Value) {
    let res = app.get(path, token).await;
    let status = res.status().as_u16();
    let media = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, res.json().await.unwrap())
}

async fn fhir_post(app: &TestApp, token: Option<&str>, body: Vec<u8>, media: &str) -> (u16, Value) {
    let mut req = app
        .client
        .post(app.at("/fhir"))
        .header("content-type", media)
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let media = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(media.starts_with("application/fhir+json"), "{media}");
    (status, res.json().await.unwrap())
}

async fn post_bundle(app: &TestApp, token: Option<&str>, bundle: &Value) -> (u16, Value) {
    fhir_post(
        app,
        token,
        serde_json::to_vec(bundle).unwrap(),
        "application/fhir+json",
    )
    .await
}

/// A dose of resident `i` as a sender writes it.
fn immunization(citizen: &str, dose: u32) -> Value {
    json!({
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": MP, "code": "EU/1/21/1529", "display": "Vaxzevria"}]},
        "patient": {"reference": format!("Patient?identifier={SYS}|{citizen}")},
        "occurrenceDateTime": format!("2021-0{}-03", 6 + dose),
        "lotNumber": "ABV5678",
        "location": {"display": "Trạm Y tế Phường 2"},
        "protocolApplied": [{"doseNumberPositiveInt": dose, "seriesDosesPositiveInt": 2}]
    })
}

fn transaction(resources: Vec<Value>) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": resources.into_iter().map(|r| json!({"resource": r, "request": {"method": "POST", "url": "Immunization"}})).collect::<Vec<_>>()
    })
}

/// The outcome's issues as `(code, first expression)`.
fn issues(outcome: &Value) -> Vec<(String, String)> {
    assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome:#}");
    outcome["issue"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["code"].as_str().unwrap().to_owned(),
                i["expression"][0].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Scenarios.

async fn metadata_needs_no_token(app: TestApp) {
    let (status, media, cap) = fhir_get(&app, "/fhir/metadata", None).await;
    assert_eq!(status, 200);
    assert_eq!(media, "application/fhir+json; charset=utf-8");
    assert_eq!(cap["resourceType"], "CapabilityStatement");
    assert_eq!(cap["fhirVersion"], "4.0.1");
    assert_eq!(cap["kind"], "instance");
    assert_eq!(cap["implementation"]["url"], format!("{}/fhir", app.url));
    let kinds: Vec<&str> = cap["rest"][0]["resource"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "Patient",
            "Immunization",
            "Specimen",
            "Observation",
            "DiagnosticReport"
        ]
    );
    assert_eq!(cap["rest"][0]["interaction"][0]["code"], "transaction");
    assert_valid(&[cap]);
}

async fn patients_are_found_by_citizen_id(app: TestApp) {
    let (id, name, dob, ..) = RESIDENTS[0];
    let (status, media, with_system) = fhir_get(
        &app,
        &format!("/fhir/Patient?identifier={SYS}|{id}"),
        Some(&app.health),
    )
    .await;
    assert_eq!(
        (status, media.as_str()),
        (200, "application/fhir+json; charset=utf-8")
    );
    assert_eq!(with_system["type"], "searchset");
    assert_eq!(with_system["total"], 1);
    let p = &with_system["entry"][0]["resource"];
    assert_eq!(p["resourceType"], "Patient");
    assert_eq!(p["id"], id);
    assert_eq!(
        p["identifier"][0],
        json!({"use": "official", "system": SYS, "value": id})
    );
    assert_eq!(p["name"][0]["text"], name);
    assert_eq!(p["name"][0]["family"], "Nguyễn");
    assert_eq!(p["name"][0]["given"], json!(["Văn", "An"]));
    assert_eq!(p["gender"], "male");
    assert_eq!(p["birthDate"], dob);
    assert_eq!(p["address"][0]["line"], json!(["1 Lê Lợi"]));
    assert_eq!(p["address"][0]["city"], "Phường 5");
    assert_eq!(p["address"][0]["district"], "Thành phố Sóc Trăng");
    assert_eq!(p["address"][0]["state"], "Tỉnh Sóc Trăng");
    assert_eq!(
        with_system["entry"][0]["fullUrl"],
        format!("{}/fhir/Patient/{id}", app.url)
    );
    assert_eq!(with_system["entry"][0]["search"]["mode"], "match");

    // Without the system, as any token search allows; the same person.
    let (status, _, without) = fhir_get(
        &app,
        &format!("/fhir/Patient?identifier={id}"),
        Some(&app.health),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(without["entry"][0]["resource"], *p);

    // Read by logical id.
    let (status, _, read) = fhir_get(&app, &format!("/fhir/Patient/{id}"), Some(&app.health)).await;
    assert_eq!(status, 200);
    assert_eq!(read, *p);

    // Another system, an unknown person, a value that is no citizen id: empty searchsets.
    for q in [
        format!("urn:oid:2.16.840.1.113883.4.1|{id}"),
        format!("|{id}"),
        format!("{SYS}|094999999999"),
        "not-an-id".to_owned(),
    ] {
        let (status, _, empty) = fhir_get(
            &app,
            &format!("/fhir/Patient?identifier={}", q.replace('|', "%7C")),
            Some(&app.health),
        )
        .await;
        assert_eq!(status, 200, "{q}");
        assert_eq!(empty["total"], 0, "{q}");
        assert!(empty.get("entry").is_none(), "{q}");
        assert_valid(&[empty]);
    }

    // No identifier: the search is refused.
    let (status, _, outcome) = fhir_get(&app, "/fhir/Patient", Some(&app.health)).await;
    assert_eq!(status, 400);
    assert_eq!(issues(&outcome)[0].0, "required");

    // Each read of the person was audited.
    let audited = app
        .get_json(
            &format!("/api/v1/audit?subject=citizen:{id}"),
            Some(&app.admin),
        )
        .await;
    let actions: Vec<&str> = audited["entries"]
        .as_array()
        .unwrap_or_else(|| audited.as_array().unwrap())
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| a.starts_with("fhir.patient."))
            .count(),
        3,
        "{audited:#}"
    );
    assert_valid(&[with_system, without, read.clone(), outcome]);
    // Nothing was created in the registry.
    assert_eq!(app.count("residents").await, RESIDENTS.len() as i64);
}

async fn patients_outside_reach_are_not_found(app: TestApp) {
    // A health officer of COMMUNE; Thạch Sà Rết lives in OTHER_COMMUNE (another district).
    let local = app.token(Role::Health, COMMUNE).await;
    let (far, ..) = RESIDENTS[3];
    let audited = app.count(FHIR_AUDIT).await;
    let (status, _, bundle) = fhir_get(
        &app,
        &format!("/fhir/Patient?identifier={SYS}|{far}"),
        Some(&local),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(bundle["total"], 0);
    let (status, _, outcome) = fhir_get(&app, &format!("/fhir/Patient/{far}"), Some(&local)).await;
    assert_eq!(status, 404);
    let (unknown_status, _, unknown) =
        fhir_get(&app, "/fhir/Patient/094999999999", Some(&local)).await;
    assert_eq!(unknown_status, 404);
    // Outside the jurisdiction answers like an id that does not exist.
    assert_eq!(
        issues(&outcome),
        issues(&unknown),
        "{outcome:#} {unknown:#}"
    );
    assert_eq!(
        app.count(FHIR_AUDIT).await,
        audited,
        "nothing read, nothing audited"
    );
    // The province's health officer reaches them.
    let (_, _, found) = fhir_get(
        &app,
        &format!("/fhir/Patient?identifier={far}"),
        Some(&app.health),
    )
    .await;
    assert_eq!(found["total"], 1);
    assert_eq!(
        found["entry"][0]["resource"]["address"][0]["city"]
            .as_str()
            .map(|c| !c.is_empty()),
        Some(true)
    );
    let _ = OTHER_COMMUNE;
    assert_valid(&[bundle, outcome, found]);
}

async fn only_health_admin_and_integration_use_the_facade(app: TestApp) {
    let path = format!("/fhir/Patient?identifier={}", RESIDENTS[0].0);
    let (status, media, anonymous) = fhir_get(&app, &path, None).await;
    assert_eq!(
        (status, media.as_str()),
        (401, "application/fhir+json; charset=utf-8")
    );
    assert_eq!(issues(&anonymous)[0].0, "login");
    let (status, _, bad_token) = fhir_get(&app, &path, Some("kd_not-a-token")).await;
    assert_eq!(status, 401);
    assert_eq!(issues(&bad_token)[0].0, "login");

    let integration = app.token(Role::Integration, "94").await;
    for (who, token, expected) in [
        ("officer", app.officer.clone(), 403),
        ("venue", app.token(Role::Venue, "94").await, 403),
        ("checkpoint", app.checkpoint.clone(), 403),
        ("vaccinator", app.token(Role::Vaccinator, "94").await, 403),
        ("ops", app.ops.clone(), 403),
        ("health", app.health.clone(), 200),
        ("admin", app.admin.clone(), 200),
        ("integration", integration.clone(), 200),
    ] {
        let (status, _, body) = fhir_get(&app, &path, Some(&token)).await;
        assert_eq!(status, expected, "{who}: {body:#}");
        if expected == 403 {
            assert_eq!(issues(&body)[0].0, "forbidden", "{who}");
        }
        let (status, _) = post_bundle(&app, Some(&token), &json!({"resourceType": "Bundle"})).await;
        assert_eq!(
            status,
            if expected == 403 { 403 } else { 400 },
            "{who} POST"
        );
    }
    let (status, _) = post_bundle(&app, None, &transaction(vec![])).await;
    assert_eq!(status, 401);
    assert_valid(&[anonymous, bad_token]);
}

async fn transactions_are_checked_whole(app: TestApp) {
    let t = app.token(Role::Integration, "94").await;
    let id = RESIDENTS[0].0;
    let mut outcomes = Vec::new();

    // Not JSON.
    let (status, outcome) = fhir_post(
        &app,
        Some(&t),
        b"{\"resourceType\": ".to_vec(),
        "application/fhir+json",
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(issues(&outcome)[0].0, "structure");
    outcomes.push(outcome);

    // A resource that is not a Bundle.
    let (status, outcome) = post_bundle(&app, Some(&t), &immunization(id, 1)).await;
    assert_eq!(status, 400);
    assert_eq!(issues(&outcome)[0].0, "structure");
    assert!(
        outcome["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("Immunization")
    );
    outcomes.push(outcome);

    // A batch: valid FHIR, but a transaction is all or nothing and a batch is not.
    let mut batch = transaction(vec![immunization(id, 1)]);
    batch["type"] = json!("batch");
    let (status, outcome) = post_bundle(&app, Some(&t), &batch).await;
    assert_eq!(status, 422);
    assert_eq!(
        issues(&outcome),
        [("not-supported".to_owned(), "Bundle.type".to_owned())]
    );
    outcomes.push(outcome);

    // An element R4 does not define.
    let mut odd = transaction(vec![immunization(id, 1)]);
    odd["colour"] = json!("red");
    let (status, outcome) = post_bundle(&app, Some(&t), &odd).await;
    assert_eq!(status, 400);
    assert!(
        outcome["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("colour")
    );
    outcomes.push(outcome);

    // Every bad entry is named, the good one is not, and nothing is written.
    let good = immunization(id, 1);
    let mut no_code = immunization(id, 2);
    no_code.as_object_mut().unwrap().remove("vaccineCode");
    let mut literal = immunization(id, 2);
    literal["patient"] = json!({"reference": "Patient/123"});
    let mut future = immunization(id, 2);
    future["occurrenceDateTime"] = json!("2999-01-01");
    let mut past_series = immunization(id, 2);
    past_series["protocolApplied"][0]["doseNumberPositiveInt"] = json!(3);
    let mut cvx = immunization(id, 2);
    cvx["vaccineCode"]["coding"][0]["system"] = json!("http://hl7.org/fhir/sid/cvx");
    let mut wrong_type = immunization(id, 2);
    wrong_type["resourceType"] = json!("Observation");
    let mut unknown_element = immunization(id, 2);
    unknown_element["dose"] = json!(2);
    let bundle = transaction(vec![
        good,
        no_code,
        literal,
        future,
        past_series,
        cvx,
        wrong_type,
        unknown_element,
    ]);
    let before = app.count(FHIR_AUDIT).await;
    let (status, outcome) = post_bundle(&app, Some(&t), &bundle).await;
    assert_eq!(status, 400, "{outcome:#}");
    assert_eq!(
        issues(&outcome),
        [
            ("required", "Bundle.entry[1].resource.vaccineCode"),
            ("value", "Bundle.entry[2].resource.patient.reference"),
            (
                "business-rule",
                "Bundle.entry[3].resource.occurrenceDateTime"
            ),
            (
                "business-rule",
                "Bundle.entry[4].resource.protocolApplied[0].doseNumberPositiveInt"
            ),
            ("code-invalid", "Bundle.entry[5].resource.vaccineCode"),
            ("structure", "Bundle.entry[6].resource"),
            ("structure", "Bundle.entry[7].resource"),
        ]
        .map(|(c, e)| (c.to_owned(), e.to_owned()))
    );
    assert_eq!(
        app.count(FHIR_AUDIT).await,
        before,
        "a refused transaction writes nothing"
    );
    outcomes.push(outcome);

    // A PUT entry, an entry without a request.
    let mut put = transaction(vec![immunization(id, 1)]);
    put["entry"][0]["request"]["method"] = json!("PUT");
    let (status, outcome) = post_bundle(&app, Some(&t), &put).await;
    assert_eq!(status, 422);
    assert_eq!(
        issues(&outcome)[0],
        (
            "not-supported".to_owned(),
            "Bundle.entry[0].request".to_owned()
        )
    );
    let mut bare = transaction(vec![immunization(id, 1)]);
    bare["entry"][0].as_object_mut().unwrap().remove("request");
    let (status, outcome2) = post_bundle(&app, Some(&t), &bare).await;
    assert_eq!(status, 400);
    assert_eq!(
        issues(&outcome2)[0],
        ("required".to_owned(), "Bundle.entry[0].request".to_owned())
    );
    outcomes.extend([outcome, outcome2]);
    assert_valid(&outcomes);
}

async fn unknown_people_refuse_the_transaction(app: TestApp) {
    let local = app.token(Role::Health, COMMUNE).await;
    let here = RESIDENTS[0].0;
    let far = RESIDENTS[3].0;
    let mut by_identifier = immunization(here, 2);
    by_identifier["patient"] = json!({"identifier": {"system": SYS, "value": here}});
    let bundle = transaction(vec![
        immunization(here, 1),
        by_identifier,
        immunization("094999999999", 1),
        immunization(far, 1),
    ]);
    let (status, outcome) = post_bundle(&app, Some(&local), &bundle).await;
    assert_eq!(status, 422, "{outcome:#}");
    // The unknown person and the one outside the caller's jurisdiction answer alike.
    assert_eq!(
        issues(&outcome),
        [
            ("not-found", "Bundle.entry[2].resource.patient"),
            ("not-found", "Bundle.entry[3].resource.patient"),
        ]
        .map(|(c, e)| (c.to_owned(), e.to_owned()))
    );
    assert!(
        !outcome.to_string().contains(far),
        "the id is masked: {outcome}"
    );
    // A dose before the person's birth (Lê Thị Cúc, born 2015; a dose in 2021 is fine, a date before 2015 is
    // refused as before the vaccinations began).
    let mut before_birth = immunization(RESIDENTS[2].0, 1);
    before_birth["occurrenceDateTime"] = json!("2014-01-01");
    let (status, early) = post_bundle(&app, Some(&local), &transaction(vec![before_birth])).await;
    assert_eq!(status, 422);
    assert_eq!(issues(&early)[0].0, "business-rule");
    assert_eq!(
        app.count("residents").await,
        RESIDENTS.len() as i64,
        "no person is created"
    );
    assert_valid(&[outcome, early]);
}

async fn large_transactions_are_read(app: TestApp) {
    let t = app.token(Role::Integration, "94").await;
    // 600 doses of a person no one knows: about 250 KiB, over the 64 KiB of the rest of the server.
    let bundle = transaction((0..600).map(|_| immunization("094999999999", 1)).collect());
    let body = serde_json::to_vec(&bundle).unwrap();
    assert!(
        body.len() > 64 * 1024 && body.len() < 8 * 1024 * 1024,
        "{}",
        body.len()
    );
    let (status, outcome) = fhir_post(&app, Some(&t), body, "application/fhir+json").await;
    assert_eq!(status, 422, "read and checked, not refused for its size");
    assert_eq!(
        outcome["issue"].as_array().unwrap().len(),
        100,
        "at most 100 issues are listed"
    );
    // Elsewhere 64 KiB stays the limit.
    let res = app
        .client
        .post(app.at("/api/v1/declarations"))
        .header("content-type", "application/json")
        // Not pooled: the server closes a connection whose body it refused unread.
        .header("connection", "close")
        .body(vec![b' '; 70 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // Over 8 MiB: 413 as an OperationOutcome, before the body is read.
    let addr = app.url.trim_start_matches("http://").to_owned();
    let answer = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let head = format!(
            "POST /fhir HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {t}\r\n\
             Content-Type: application/fhir+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{",
            8 * 1024 * 1024 + 1
        );
        s.write_all(head.as_bytes()).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let mut answer = Vec::new();
        s.read_to_end(&mut answer).ok();
        String::from_utf8_lossy(&answer).into_owned()
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("content-type: application/fhir+json"),
        "{answer}"
    );
    let outcome: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(issues(&outcome)[0].0, "too-long");
    assert_valid(&[outcome]);
}

async fn media_types_are_fhir_json(app: TestApp) {
    let t = app.token(Role::Integration, "94").await;
    let body = serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "transaction", "entry": [{"request": {"method": "DELETE", "url": "Immunization/1"}}]})).unwrap();
    // application/json is accepted as well; the answer is FHIR JSON either way.
    for media in [
        "application/fhir+json",
        "application/json",
        "application/fhir+json; fhirVersion=4.0; charset=utf-8",
    ] {
        let (status, outcome) = fhir_post(&app, Some(&t), body.clone(), media).await;
        assert_eq!(status, 422, "{media}");
        assert_eq!(issues(&outcome)[0].0, "not-supported", "{media}");
    }
    let (status, outcome) = fhir_post(&app, Some(&t), body.clone(), "text/plain").await;
    assert_eq!(status, 415);
    assert_eq!(issues(&outcome)[0].0, "not-supported");
    // XML is not offered, by _format or Accept.
    let (status, media, xml) = fhir_get(&app, "/fhir/metadata?_format=xml", None).await;
    assert_eq!(
        (status, media.as_str()),
        (406, "application/fhir+json; charset=utf-8")
    );
    let res = app
        .client
        .get(app.at("/fhir/metadata"))
        .header("accept", "application/fhir+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 406);
    for ok in ["json", "application/fhir+json", "application/json"] {
        let (status, ..) = fhir_get(&app, &format!("/fhir/metadata?_format={ok}"), None).await;
        assert_eq!(status, 200, "{ok}");
    }
    assert_valid(&[outcome, xml]);
}

async fn immunizations_are_searched_by_patient(app: TestApp) {
    // Someone unknown or outside reach: an empty searchset, without asking the dose store.
    let local = app.token(Role::Health, COMMUNE).await;
    for who in ["094999999999", RESIDENTS[3].0] {
        let (status, _, empty) = fhir_get(
            &app,
            &format!("/fhir/Immunization?patient.identifier={SYS}%7C{who}"),
            Some(&local),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(empty["total"], 0);
        assert_valid(&[empty]);
    }
    let (status, _, outcome) = fhir_get(&app, "/fhir/Immunization", Some(&local)).await;
    assert_eq!(status, 400);
    assert_eq!(issues(&outcome)[0].0, "required");
}

async fn doses_are_recorded_once_and_served_back(app: TestApp) {
    let feed = app.token(Role::Integration, "94").await;
    let person = RESIDENTS[0].0;
    let both = transaction(vec![immunization(person, 1), immunization(person, 2)]);
    let statuses = |answer: &Value| -> Vec<String> {
        assert_eq!(answer["type"], "transaction-response", "{answer:#}");
        answer["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["response"]["status"].as_str().unwrap().to_owned())
            .collect()
    };
    let (status, first) = post_bundle(&app, Some(&feed), &both).await;
    assert_eq!(status, 200, "{first:#}");
    assert_eq!(statuses(&first), ["201 Created", "201 Created"]);
    // The same transaction again changes nothing and says so, with the same logical ids.
    let (status, again) = post_bundle(&app, Some(&feed), &both).await;
    assert_eq!(status, 200, "{again:#}");
    assert_eq!(statuses(&again), ["200 OK", "200 OK"]);
    assert_eq!(
        first["entry"][1]["response"]["location"],
        again["entry"][1]["response"]["location"]
    );
    assert!(
        !first.to_string().contains(person),
        "no citizen id in a location"
    );
    // A conflicting dose refuses the whole transaction: the new third dose is not written either.
    let mut other_lot = immunization(person, 1);
    other_lot["lotNumber"] = json!("OTHER1");
    let mut third = immunization(person, 2);
    third["occurrenceDateTime"] = json!("2022-01-10");
    third["protocolApplied"] = json!([{"doseNumberPositiveInt": 3, "seriesDosesPositiveInt": 3}]);
    let (status, conflict) =
        post_bundle(&app, Some(&feed), &transaction(vec![third, other_lot])).await;
    assert_eq!(status, 409, "{conflict:#}");
    assert_eq!(
        issues(&conflict),
        [("conflict".to_owned(), "Bundle.entry[1].resource".to_owned())]
    );
    // A product outside the value set is the records' refusal, at the element.
    let mut unknown = immunization(person, 1);
    unknown["vaccineCode"]["coding"][0]["code"] = json!("EU/1/99/0000");
    let (status, refused) = post_bundle(&app, Some(&feed), &transaction(vec![unknown])).await;
    assert_eq!(status, 422, "{refused:#}");
    assert_eq!(
        issues(&refused),
        [(
            "code-invalid".to_owned(),
            "Bundle.entry[0].resource.vaccineCode".to_owned()
        )]
    );
    // The two doses, and only they, are served back: on the facade and in the records' own API.
    let (status, _, found) = fhir_get(
        &app,
        &format!("/fhir/Immunization?patient.identifier={person}"),
        Some(&app.health),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(found["total"], 2, "{found:#}");
    assert_eq!(
        found["entry"][0]["resource"]["vaccineCode"]["coding"][0]["code"],
        "EU/1/21/1529"
    );
    let records = app
        .get_json(
            &format!("/api/v1/residents/{person}/vaccinations"),
            Some(&app.health),
        )
        .await;
    assert_eq!(records.as_array().unwrap().len(), 2, "{records:#}");
    assert_eq!(records[0]["lot"], "ABV5678");
    assert_valid(&[first, again, conflict, refused, found]);
}

// ---------------------------------------------------------------------------------------------------------
// Laboratory results: Specimen + Observation + DiagnosticReport.

const LOINC: &str = "http://loinc.org";
const SNOMED: &str = "http://snomed.info/sct";
/// The results written and the facade's reads of them.
const LAB_READS: &str = "audit_log WHERE action LIKE 'fhir.observation.%' OR action LIKE 'fhir.diagnosticreport.%' OR action LIKE 'fhir.specimen.%'";

/// RFC 3339, `hours` ago.
fn hours_ago(hours: i64) -> String {
    (chrono::Utc::now() - chrono::Duration::hours(hours))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Orders a PCR sample of resident `i`, collected a day ago, as `token`: (id, label).
async fn collected_sample(app: &TestApp, token: &str, i: usize) -> (i64, String) {
    let res = app
        .post(
            "/api/v1/samples",
            Some(token),
            &json!({"citizen_id": RESIDENTS[i].0, "reason": "screening", "test_type": "pcr",
                    "collected_at": hours_ago(26)}),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    let body: Value = res.json().await.unwrap();
    (
        body["id"].as_i64().unwrap(),
        body["label"].as_str().unwrap().to_owned(),
    )
}

/// A laboratory's result as three resources: the Specimen (by label), the Observation (PCR, detected or not,
/// Ct when given) and the DiagnosticReport, each referring to the others by fullUrl; `n` keeps them apart.
fn lab_entries(n: u32, label: &str, citizen: &str, detected: bool, ct: Option<f64>) -> Vec<Value> {
    let url = |kind: u32| format!("urn:uuid:6f1c2a52-7d3b-4e8a-9b1f-{kind}{n:011}");
    let patient = json!({"reference": format!("Patient?identifier={SYS}|{citizen}")});
    let code = json!({"coding": [{"system": LOINC, "code": "94500-6"}]});
    let mut observation = json!({
        "resourceType": "Observation",
        "status": "final",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}],
        "code": code,
        "subject": patient,
        "effectiveDateTime": hours_ago(26),
        "issued": hours_ago(1),
        "performer": [{"display": "CDC Sóc Trăng"}],
        "valueCodeableConcept": {"coding": [{"system": SNOMED, "code": if detected { "260373001" } else { "260415000" }}]},
        "specimen": {"reference": url(1)}
    });
    if let Some(ct) = ct {
        observation["component"] = json!([{
            "code": {"coding": [{"system": LOINC, "code": "94745-7"}]},
            "valueQuantity": {"value": ct, "unit": "Ct", "system": "http://unitsofmeasure.org", "code": "{Ct}"}
        }]);
    }
    vec![
        json!({"fullUrl": url(1), "request": {"method": "POST", "url": "Specimen"}, "resource": {
            "resourceType": "Specimen",
            "identifier": [{"system": "urn:kiemdich:sample-label", "value": label}],
            "subject": patient
        }}),
        json!({"fullUrl": url(2), "request": {"method": "POST", "url": "Observation"}, "resource": observation}),
        json!({"fullUrl": url(3), "request": {"method": "POST", "url": "DiagnosticReport"}, "resource": {
            "resourceType": "DiagnosticReport",
            "status": "final",
            "code": code,
            "subject": patient,
            "specimen": [{"reference": url(1)}],
            "result": [{"reference": url(2)}]
        }}),
    ]
}

fn lab_bundle(entries: Vec<Value>) -> Value {
    json!({"resourceType": "Bundle", "type": "transaction", "entry": entries})
}

/// The answer's `(status, location)` per entry.
fn answers(answer: &Value) -> Vec<(String, String)> {
    assert_eq!(answer["type"], "transaction-response", "{answer:#}");
    answer["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["response"]["status"].as_str().unwrap().to_owned(),
                e["response"]["location"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

async fn lab_results_are_recorded_with_their_effects_once(app: TestApp) {
    let pass = app.pass_of(0, false).await;
    assert_eq!(app.verify(&pass).await["valid"], true);
    let lab = app.token(Role::Lab, COMMUNE).await;
    let person = RESIDENTS[0].0;
    let (positive, positive_label) = collected_sample(&app, &lab, 0).await;
    let (negative, negative_label) = collected_sample(&app, &lab, 1).await;
    let mut entries = lab_entries(1, &positive_label, person, true, Some(21.5));
    entries.extend(lab_entries(2, &negative_label, RESIDENTS[1].0, false, None));
    let bundle = lab_bundle(entries);
    let (status, first) = post_bundle(&app, Some(&lab), &bundle).await;
    assert_eq!(status, 200, "{first:#}");
    let created = |id: i64| {
        ["Specimen", "Observation", "DiagnosticReport"]
            .map(|kind| ("201 Created".to_owned(), format!("{kind}/{id}")))
    };
    let mut expected = created(positive).to_vec();
    expected.extend(created(negative));
    assert_eq!(answers(&first), expected);
    // The positive PCR went through the result entry: an F0 case opened from this result, the pass revoked.
    assert_eq!(app.count("results").await, 2);
    assert_eq!(app.count("cases").await, 1);
    assert_eq!(app.verify(&pass).await["reason"], "revoked");
    let samples = app
        .get_json(
            &format!("/api/v1/samples?citizen_id={person}"),
            Some(&app.health),
        )
        .await;
    assert_eq!(samples[0]["result"]["result"], "positive", "{samples:#}");
    assert_eq!(samples[0]["result"]["source"], "fhir");
    assert_eq!(samples[0]["result"]["lab"], "CDC Sóc Trăng");
    let case_id = samples[0]["result"]["case_id"].as_i64().unwrap();
    let case = app
        .get_json(&format!("/api/v1/cases/{case_id}"), Some(&app.health))
        .await;
    assert_eq!(
        (case["classification"].as_str(), case["source"].as_str()),
        (Some("f0"), Some("test_result"))
    );
    // The same bundle again changes nothing and says so.
    let before = (
        app.count("results").await,
        app.count("cases").await,
        app.count("outbox").await,
    );
    let (status, again) = post_bundle(&app, Some(&lab), &bundle).await;
    assert_eq!(status, 200, "{again:#}");
    assert!(
        answers(&again).iter().all(|(s, _)| s == "200 OK"),
        "{again:#}"
    );
    assert_eq!(
        (
            app.count("results").await,
            app.count("cases").await,
            app.count("outbox").await
        ),
        before
    );
    // The person's results, read back by staff in jurisdiction, audited.
    let audited = app.count(LAB_READS).await;
    let (status, _, observations) = fhir_get(
        &app,
        &format!("/fhir/Observation?patient=Patient/{person}"),
        Some(&app.health),
    )
    .await;
    assert_eq!(status, 200, "{observations:#}");
    assert_eq!(observations["total"], 1, "{observations:#}");
    let o = &observations["entry"][0]["resource"];
    assert_eq!(o["id"], positive.to_string());
    assert_eq!(o["code"]["coding"][0]["code"], "94500-6");
    assert_eq!(o["valueCodeableConcept"]["coding"][0]["code"], "260373001");
    assert_eq!(o["component"][0]["valueQuantity"]["value"], 21.5);
    assert_eq!(o["performer"][0]["display"], "CDC Sóc Trăng");
    assert_eq!(o["specimen"]["reference"], format!("Specimen/{positive}"));
    let (status, _, reports) = fhir_get(
        &app,
        &format!(
            "/fhir/DiagnosticReport?patient.identifier={SYS}|{}",
            RESIDENTS[1].0
        ),
        Some(&lab),
    )
    .await;
    assert_eq!(status, 200, "{reports:#}");
    let r = &reports["entry"][0]["resource"];
    assert_eq!(r["conclusionCode"][0]["coding"][0]["code"], "260415000");
    assert_eq!(
        r["result"][0]["reference"],
        format!("Observation/{negative}")
    );
    let mut read = Vec::new();
    for kind in ["Specimen", "Observation", "DiagnosticReport"] {
        let (status, _, one) =
            fhir_get(&app, &format!("/fhir/{kind}/{positive}"), Some(&app.health)).await;
        assert_eq!(
            (status, one["resourceType"].as_str()),
            (200, Some(kind)),
            "{one:#}"
        );
        read.push(one);
    }
    assert_eq!(read[0]["identifier"][0]["value"], positive_label);
    assert_eq!(app.count(LAB_READS).await, audited + 5);
    // Outside the reader's jurisdiction: none found, 404 by id, nothing audited.
    let elsewhere = app.token(Role::Health, OTHER_COMMUNE).await;
    let (status, _, none) = fhir_get(
        &app,
        &format!("/fhir/Observation?patient={person}"),
        Some(&elsewhere),
    )
    .await;
    assert_eq!((status, none["total"].as_u64()), (200, Some(0)), "{none:#}");
    let (status, _, missing) = fhir_get(
        &app,
        &format!("/fhir/Observation/{positive}"),
        Some(&elsewhere),
    )
    .await;
    assert_eq!(status, 404, "{missing:#}");
    assert_eq!(app.count(LAB_READS).await, audited + 5);
    // A lab reads results, not the registry or doses.
    let (status, _, _) = fhir_get(&app, &format!("/fhir/Patient/{person}"), Some(&lab)).await;
    assert_eq!(status, 403);
    let mut all = vec![first, again, observations, reports, missing];
    all.extend(read);
    assert_valid(&all);
}

async fn lab_results_are_refused_outside_the_jurisdiction_and_to_other_roles(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let (_, label) = collected_sample(&app, &lab, 0).await;
    let bundle = lab_bundle(lab_entries(1, &label, RESIDENTS[0].0, true, None));
    let other_lab = app.token(Role::Lab, OTHER_COMMUNE).await;
    let (status, outside) = post_bundle(&app, Some(&other_lab), &bundle).await;
    assert_eq!(status, 403, "{outside:#}");
    assert_eq!(
        issues(&outside),
        [(
            "forbidden".to_owned(),
            "Bundle.entry[0].resource.identifier".to_owned()
        )]
    );
    for (who, token) in [
        ("officer", app.officer.clone()),
        ("integration", app.token(Role::Integration, "94").await),
        ("vaccinator", app.token(Role::Vaccinator, "94").await),
        ("checkpoint", app.checkpoint.clone()),
    ] {
        let (status, refused) = post_bundle(&app, Some(&token), &bundle).await;
        assert_eq!(status, 403, "{who}: {refused:#}");
        assert_eq!(issues(&refused)[0].0, "forbidden", "{who}");
    }
    // A laboratory sends results, not doses.
    let (status, doses) = post_bundle(
        &app,
        Some(&lab),
        &transaction(vec![immunization(RESIDENTS[0].0, 1)]),
    )
    .await;
    assert_eq!(status, 403, "{doses:#}");
    assert_eq!(
        (app.count("results").await, app.count("cases").await),
        (0, 0)
    );
    assert_valid(&[outside, doses]);
}

async fn bad_lab_bundles_name_each_element_and_store_nothing(app: TestApp) {
    let lab = app.token(Role::Lab, COMMUNE).await;
    let person = RESIDENTS[0].0;
    let (_, label) = collected_sample(&app, &lab, 0).await;
    let refused = |entries: Vec<Value>| {
        let bundle = lab_bundle(entries);
        let app = &app;
        let lab = lab.clone();
        async move {
            let (status, outcome) = post_bundle(app, Some(&lab), &bundle).await;
            assert!((400..500).contains(&status), "{outcome:#}");
            (status, issues(&outcome))
        }
    };
    let at = |i: usize, element: &str| format!("Bundle.entry[{i}].resource.{element}");
    // Shape and codes: every problem of every entry, at its element.
    let mut entries = lab_entries(1, &label, person, true, None);
    entries[1]["resource"]["status"] = json!("preliminary");
    entries[1]["resource"]["valueCodeableConcept"]["coding"][0]["code"] = json!("10828004");
    entries[1]["resource"]["specimen"]["reference"] =
        json!("urn:uuid:00000000-0000-4000-8000-000000000000");
    entries[2]["resource"]["code"]["coding"][0]["code"] = json!("94309-2");
    let (status, found) = refused(entries).await;
    assert_eq!(status, 422);
    assert_eq!(
        found,
        [
            ("not-supported".to_owned(), at(1, "status")),
            ("code-invalid".to_owned(), at(1, "valueCodeableConcept")),
            ("code-invalid".to_owned(), at(2, "code")),
        ]
    );
    // Once each entry reads, the references between them: a Specimen no Observation reports.
    let mut entries = lab_entries(1, &label, person, true, None);
    entries[1]["resource"]["specimen"]["reference"] =
        json!("urn:uuid:00000000-0000-4000-8000-000000000000");
    let (_, found) = refused(entries).await;
    assert_eq!(
        found[0],
        ("not-found".to_owned(), at(1, "specimen.reference"))
    );
    // The result entry's own checks, at the element they came from.
    let mut entries = lab_entries(1, &label, person, true, Some(99.0));
    entries[1]["resource"]["issued"] = json!(hours_ago(-48));
    let (status, found) = refused(entries).await;
    assert_eq!(status, 422);
    let paths: Vec<&str> = found.iter().map(|(_, p)| p.as_str()).collect();
    assert!(paths.contains(&at(1, "issued").as_str()), "{found:?}");
    assert!(
        paths.contains(&at(1, "component[0].valueQuantity.value").as_str()),
        "{found:?}"
    );
    // An unknown sample, another person's sample, an element R4 does not define.
    let unknown =
        kiemdich_domain::testing::label(kiemdich_domain::testing::LabelKind::Sample, 999_999);
    let (_, found) = refused(lab_entries(1, &unknown, person, true, None)).await;
    assert_eq!(found, [("not-found".to_owned(), at(0, "identifier"))]);
    let mut entries = lab_entries(1, &label, RESIDENTS[1].0, true, None);
    entries[0]["resource"]
        .as_object_mut()
        .unwrap()
        .remove("subject");
    let (_, found) = refused(entries).await;
    assert_eq!(found, [("business-rule".to_owned(), at(1, "subject"))]);
    let mut entries = lab_entries(1, &label, person, true, None);
    entries[1]["resource"]["colour"] = json!("red");
    let (status, found) = refused(entries).await;
    assert_eq!((status, found[0].0.as_str()), (400, "structure"));
    // Doses and results do not mix in one transaction.
    let mut entries = lab_entries(1, &label, person, true, None);
    entries.push(json!({"resource": immunization(person, 1), "request": {"method": "POST", "url": "Immunization"}}));
    let (_, found) = refused(entries).await;
    assert_eq!(found[0].0, "not-supported");
    // Nothing of any of them was written.
    assert_eq!(
        (
            app.count("results").await,
            app.count("cases").await,
            app.count("doses").await
        ),
        (0, 0, 0)
    );
}

// ---------------------------------------------------------------------------------------------------------
// The resources the facade builds, validated without a server.

fn dose(id: &str, product: &str, n: u32) -> ImmunizationOut {
    ImmunizationOut {
        id: id.into(),
        citizen_id: CitizenId::parse(RESIDENTS[0].0).unwrap(),
        product: product.into(),
        product_name: Some("Vaxzevria".into()),
        dose_number: n,
        series_doses: 2,
        date: chrono::NaiveDate::from_ymd_opt(2021, 7 + n, 3).unwrap(),
        lot: Some("ABV5678".into()),
        site: Some("Trạm Y tế Phường 2".into()),
        country: "VN".into(),
    }
}

#[test]
fn built_resources_are_valid_r4() {
    let doses = [dose("1", "EU/1/21/1529", 1), dose("2", "BBIBP-CorV", 2)];
    let immunizations: Vec<Value> = doses
        .iter()
        .map(|d| serde_json::to_value(d.resource(SYS)).unwrap())
        .collect();
    let searchset = Bundle::searchset(
        doses
            .iter()
            .map(|d| {
                kiemdich_server::fhir::bundle::EntryResource::Immunization(Box::new(
                    d.resource(SYS),
                ))
            })
            .collect(),
        format!(
            "https://kiemdich.example.vn/fhir/Immunization?patient.identifier={}",
            RESIDENTS[0].0
        ),
        Some("https://kiemdich.example.vn/fhir"),
        1_700_000_000,
    );
    let response = Bundle::transaction_response(
        &[
            Recorded::Created("1".into()),
            Recorded::Unchanged("2".into()),
        ],
        1_700_000_000,
    );
    let response = serde_json::to_value(response).unwrap();
    assert_eq!(
        response["entry"][0]["response"],
        json!({"status": "201 Created", "location": "Immunization/1"})
    );
    assert_eq!(response["entry"][1]["response"]["status"], "200 OK");
    let statement = CapabilityStatement::new(None, "Sở Y tế Sóc Trăng".into(), "2026-11-30".into());
    // An OperationOutcome for every kind of problem the facade reports.
    let outcomes: Vec<Value> = Problem::ALL
        .iter()
        .map(|&p| {
            serde_json::to_value(FhirError::at(p, "Bundle.entry[0]", "why").outcome()).unwrap()
        })
        .collect();
    let mut all = immunizations;
    all.extend([
        serde_json::to_value(searchset).unwrap(),
        response,
        serde_json::to_value(statement).unwrap(),
    ]);
    all.extend(outcomes);
    // A result of each kind, as its three resources: the Ct value, a negative, an invalid test without value.
    for (result, ct, collected) in [
        (TestResult::Positive, Some(18.25), Some(1_699_900_000)),
        (TestResult::Negative, None, None),
        (TestResult::Invalid, None, Some(1_699_900_000)),
    ] {
        let out = LabResultOut {
            sample_id: 7,
            citizen_id: CitizenId::parse(RESIDENTS[0].0).unwrap(),
            test_type: if ct.is_some() {
                TestType::Pcr
            } else {
                TestType::RapidAntigen
            },
            collected_at: collected,
            result,
            tested_at: 1_700_000_000,
            lab: "CDC Sóc Trăng".into(),
            ct,
        };
        all.extend([
            serde_json::to_value(out.specimen(SYS)).unwrap(),
            serde_json::to_value(out.observation(SYS)).unwrap(),
            serde_json::to_value(out.report(SYS)).unwrap(),
        ]);
    }
    assert_valid(&all);
}

/// The validator's "valid" means something: it refuses what R4 refuses.
#[test]
fn the_validator_catches_broken_resources() {
    let good = serde_json::to_value(dose("1", "EU/1/21/1529", 1).resource(SYS)).unwrap();
    assert_valid(std::slice::from_ref(&good));
    let broken = |f: &dyn Fn(&mut Value)| {
        let mut v = good.clone();
        f(&mut v);
        v
    };
    assert_invalid(
        broken(&|v| {
            v.as_object_mut().unwrap().remove("vaccineCode");
        }),
        "Missing property",
    );
    assert_invalid(
        broken(&|v| v["status"] = json!("done")),
        "not found in value set",
    );
    assert_invalid(
        broken(&|v| v["lotNumbr"] = json!("x")),
        "Unexpected property",
    );
    assert_invalid(
        broken(&|v| v["occurrenceDateTime"] = json!("03/08/2021")),
        "Invalid dateTime format",
    );
    assert_invalid(
        broken(&|v| v["protocolApplied"][0]["doseNumberPositiveInt"] = json!("1")),
        "Number type expected",
    );
    assert_invalid(
        broken(&|v| v["patient"] = json!({"reference": "Observation/1"})),
        "Invalid type for reference",
    );
    assert_invalid(
        broken(&|v| v["protocolApplied"] = json!({"doseNumberPositiveInt": 1})),
        "Property is not an array",
    );
    assert_invalid(
        broken(&|v| v["lotNumber"] = json!("")),
        "strings must not be empty",
    );
    assert_invalid(
        json!({"resourceType": "Immunisation"}),
        "not a valid resource type",
    );
    assert_invalid(
        json!({"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "bad-thing"}]}),
        "not found in value set",
    );
    assert_invalid(
        json!({"resourceType": "Bundle", "type": "transaction-response", "total": 1}),
        "bdl-1",
    );
    assert_invalid(
        json!({"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": good}]}),
        "bdl-3",
    );
    assert_invalid(
        json!({"resourceType": "Bundle", "type": "transaction-response", "entry": [{"resource": good}]}),
        "bdl-4",
    );
    assert_invalid(
        json!({"resourceType": "Bundle", "type": "searchset", "entry": [{"fullUrl": "urn:a", "resource": good}, {"fullUrl": "urn:a", "resource": good}]}),
        "bdl-7",
    );
    assert_invalid(
        json!({"resourceType": "Bundle", "type": "document", "timestamp": "2021-01-01T00:00:00Z", "identifier": {"system": "urn:x", "value": "1"}, "entry": [{"fullUrl": "urn:a", "resource": good}]}),
        "bdl-11",
    );
    assert_invalid(
        json!({"resourceType": "CapabilityStatement", "status": "active", "date": "2021", "kind": "instance", "fhirVersion": "4.0.1", "format": ["json"], "rest": [{"mode": "server"}]}),
        "cpb-14",
    );
}
