//! EU Digital COVID Certificates (HC1) at checkpoints and venues: a foreign visitor's certificate, signed by a DSC
//! from an imported trust list, is admitted where the place accepts certificates and logged under its UVCI; a place
//! that does not accept them, a vaccination requirement the certificate does not meet, a test certificate where
//! vaccination is required, an expired certificate (a real one from the EU corpus too) are refusals recorded; an
//! unknown signer or a broken string is a 422 that stores nothing; a certificate this deployment issued is decided
//! by the resident's own pass, colour first. Both backends.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[macro_use]
mod common;

use base64::Engine as _;
use chrono::{Duration, NaiveDate, Utc};
use common::{COMMUNE, RESIDENTS, TestApp, foreign_vaccination, person};
use coset::cbor::value::Value as Cbor;
use kiemdich_dcc::{CertType, Csca, DscSigner};
use serde_json::{Value, json};

on_both_backends!(
    a_foreign_certificate_admits_where_accepted_and_is_logged_under_its_uvci,
    requirements_and_expiry_refuse_and_unknown_or_broken_strings_store_nothing,
    a_certificate_issued_here_is_decided_by_the_residents_pass,
);

/// A German test certificate (negative PCR), signed as the EU schema 1.3.0 has it.
fn test_certificate(signer: &DscSigner) -> String {
    let text = |s: &str| Cbor::Text(s.into());
    let now = Utc::now().timestamp();
    let entry = Cbor::Map(vec![
        (text("tg"), text("840539006")),
        (text("tt"), text("LP6464-4")),
        (text("sc"), text("2026-11-25T08:00:00Z")),
        (text("tr"), text("260415000")),
        (text("tc"), text("Testzentrum Berlin")),
        (text("co"), text("DE")),
        (text("is"), text("Robert Koch-Institut")),
        (text("ci"), text("URN:UVCI:01:DE:TESTCERT42#7")),
    ]);
    let dcc = Cbor::Map(vec![
        (text("ver"), text("1.3.0")),
        (
            text("nam"),
            Cbor::Map(vec![
                (text("fn"), text("Mustermann")),
                (text("fnt"), text("MUSTERMANN")),
            ]),
        ),
        (text("dob"), text("1964-08-12")),
        (text("t"), Cbor::Array(vec![entry])),
    ]);
    let claims = Cbor::Map(vec![
        (Cbor::Integer(1.into()), text("DE")),
        (Cbor::Integer(6.into()), Cbor::Integer(now.into())),
        (
            Cbor::Integer(4.into()),
            Cbor::Integer((now + 86_400).into()),
        ),
        (
            Cbor::Integer((-260).into()),
            Cbor::Map(vec![(Cbor::Integer(1.into()), dcc)]),
        ),
    ]);
    let mut bytes = Vec::new();
    coset::cbor::ser::into_writer(&claims, &mut bytes).unwrap();
    kiemdich_dcc::sign_claims(signer, bytes).unwrap()
}

/// A scan of `token` at `place` under a fresh idempotency key.
async fn scan(app: &TestApp, place: i64, token: &str, key: &str) -> (u16, Value) {
    let body = json!({"token": token, "direction": "in", "idempotency_key": key});
    let res = app
        .post(
            &format!("/api/v1/locations/{place}/scans"),
            Some(&app.checkpoint),
            &body,
        )
        .await;
    (res.status().as_u16(), res.json().await.unwrap())
}

/// A place of `kind` with the given admission policy fields, created by the province officer.
async fn place(app: &TestApp, kind: &str, policy: Value) -> i64 {
    let mut body = json!({"name": format!("Nơi {kind}"), "kind": kind, "commune_code": COMMUNE, "lat": 9.6, "lon": 105.97});
    for (k, v) in policy.as_object().unwrap() {
        body[k] = v.clone();
    }
    let res = app
        .post("/api/v1/locations", Some(&app.officer), &body)
        .await;
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

/// The stored presence row of a scan: citizen, pass (or UVCI), method, decision, reason.
async fn stored(
    app: &TestApp,
    event: i64,
) -> (Option<String>, Option<String>, String, String, String) {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    let row = sqlx::query(
        "SELECT citizen_id, pass_id, method, decision, reason FROM presence_events WHERE id = $1",
    )
    .bind(event)
    .fetch_one(&mut conn)
    .await
    .unwrap();
    (
        row.try_get("citizen_id").unwrap(),
        row.try_get("pass_id").unwrap(),
        row.try_get("method").unwrap(),
        row.try_get("decision").unwrap(),
        row.try_get("reason").unwrap(),
    )
}

async fn a_foreign_certificate_admits_where_accepted_and_is_logged_under_its_uvci(app: TestApp) {
    let signer = app.foreign_signer(&CertType::ALL).await;
    let hc1 = foreign_vaccination(&signer, (2, 2), 40, Utc::now());
    let uvci = kiemdich_dcc::verify(&hc1, &app.state.dcc_trust(), Utc::now())
        .payload
        .unwrap()["v"][0]["ci"]
        .as_str()
        .unwrap()
        .to_owned();
    // Checkpoints accept certificates by the shipped rules; the place says so.
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let listed: Value = app
        .get_json(
            &format!("/api/v1/locations/{checkpoint}"),
            Some(&app.officer),
        )
        .await;
    assert_eq!(listed["accepts_dcc"], true);
    let (status, answer) = scan(&app, checkpoint, &hc1, "dcc-1").await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["decision"], "admit", "{answer}");
    assert_eq!(answer["reason"], "valid");
    assert_eq!(answer["status"], Value::Null, "a visitor has no colour");
    assert_eq!(answer["full_name"], "Erika Mustermann");
    assert_eq!(answer["birth_year"], 1964);
    assert_eq!(answer["certificate"]["uvci"], uvci.as_str());
    assert_eq!(answer["certificate"]["kind"], "vaccination");
    assert_eq!(answer["certificate"]["country"], "DE");
    assert_eq!(answer["vaccination"]["doses"], 2);
    let (citizen, pass, method, decision, _) =
        stored(&app, answer["event_id"].as_i64().unwrap()).await;
    assert_eq!(citizen, None);
    assert_eq!(pass.as_deref(), Some(uvci.as_str()));
    assert_eq!((method.as_str(), decision.as_str()), ("dcc", "admit"));

    // The same scan resent is the same answer; a different certificate under that key is a conflict.
    let (status, again) = scan(&app, checkpoint, &hc1, "dcc-1").await;
    assert_eq!(status, 200);
    assert_eq!(again["event_id"], answer["event_id"]);
    let other = foreign_vaccination(&signer, (1, 2), 10, Utc::now());
    assert_eq!(scan(&app, checkpoint, &other, "dcc-1").await.0, 409);

    // A market does not accept certificates by the rules, nor a checkpoint registered to refuse them: refusals.
    let market = app.location("market", COMMUNE).await;
    let refusing = place(&app, "checkpoint", json!({"accepts_dcc": false})).await;
    for (at, key) in [(market, "dcc-2"), (refusing, "dcc-3")] {
        let (status, answer) = scan(&app, at, &hc1, key).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(answer["decision"], "refuse");
        assert_eq!(answer["reason"], "dcc_not_accepted");
    }
    // A market registered to accept them admits.
    let accepting = place(&app, "market", json!({"accepts_dcc": true})).await;
    assert_eq!(
        scan(&app, accepting, &hc1, "dcc-4").await.1["decision"],
        "admit"
    );
}

async fn requirements_and_expiry_refuse_and_unknown_or_broken_strings_store_nothing(app: TestApp) {
    let signer = app.foreign_signer(&CertType::ALL).await;
    let fully = place(
        &app,
        "agency",
        json!({"vaccination": {"min_doses": 2, "min_days_since_last": 14}}),
    )
    .await;
    // One dose of two, and two doses given only five days ago: not met; two doses 40 days ago: admitted.
    let cases = [
        (
            foreign_vaccination(&signer, (1, 2), 60, Utc::now()),
            "vaccination_not_met",
            "refuse",
        ),
        (
            foreign_vaccination(&signer, (2, 2), 5, Utc::now()),
            "vaccination_not_met",
            "refuse",
        ),
        (
            foreign_vaccination(&signer, (2, 2), 40, Utc::now()),
            "valid",
            "admit",
        ),
        (test_certificate(&signer), "dcc_not_vaccination", "refuse"),
    ];
    for (i, (hc1, reason, decision)) in cases.iter().enumerate() {
        let (status, answer) = scan(&app, fully, hc1, &format!("req-{i}")).await;
        assert_eq!(status, 201, "{answer}");
        assert_eq!(
            (answer["reason"].as_str(), answer["decision"].as_str()),
            (Some(*reason), Some(*decision)),
            "case {i}: {answer}"
        );
    }
    // A test certificate where nothing is required admits, and says it is a test certificate.
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let (_, answer) = scan(&app, checkpoint, &test_certificate(&signer), "test-1").await;
    assert_eq!(answer["decision"], "admit", "{answer}");
    assert_eq!(answer["certificate"]["kind"], "test");

    // A DSC allowed to sign vaccinations only, signing a test certificate: refused, recorded.
    let vaccinations_only = app.foreign_signer(&[CertType::Vaccination]).await;
    let (status, answer) = scan(
        &app,
        checkpoint,
        &test_certificate(&vaccinations_only),
        "usage-1",
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["reason"], "dcc_wrong_key_usage", "{answer}");

    // Issued 13 months ago: expired, a refusal recorded. So is a real German certificate of 2021.
    let old = foreign_vaccination(&signer, (2, 2), 500, Utc::now() - Duration::days(400));
    let (status, answer) = scan(&app, checkpoint, &old, "old-1").await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(
        (answer["decision"].as_str(), answer["reason"].as_str()),
        (Some("refuse"), Some("dcc_expired"))
    );
    let vector: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../dcc/tests/data/dcc-testdata/DE/2DCode/raw/1.json"
        ))
        .unwrap(),
    )
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let cert = vector["TESTCTX"]["CERTIFICATE"].as_str().unwrap();
    let kid = b64.encode(kiemdich_dcc::kid_of(&b64.decode(cert).unwrap()));
    let list = json!({"certificates": [{"kid": kid, "certificate": cert}]});
    kiemdich_store::dcc::import_trust(&app.store, &list.to_string(), "de-vector.json")
        .await
        .unwrap();
    app.state.refresh().await.unwrap();
    let (status, answer) = scan(
        &app,
        checkpoint,
        vector["PREFIX"].as_str().unwrap(),
        "vector-1",
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["decision"], "refuse");
    assert!(
        answer["reason"].as_str().unwrap().starts_with("dcc_"),
        "{answer}"
    );

    // Not genuine: nothing stored.
    let before = app.count("presence_events").await;
    let unknown = {
        let now = Utc::now();
        let csca = Csca::generate("FR", "not trusted", now - Duration::days(1), 5).unwrap();
        let req = kiemdich_dcc::dsc_request("FR", "not trusted DSC").unwrap();
        let der = csca
            .sign_request(
                req.request_pem.as_bytes(),
                &[],
                now - Duration::hours(1),
                30,
            )
            .unwrap();
        foreign_vaccination(
            &DscSigner::load(&req.key_pem, &der).unwrap(),
            (2, 2),
            40,
            now,
        )
    };
    let (status, answer) = scan(&app, checkpoint, &unknown, "bad-1").await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["error"], "invalid_pass", "{answer}");
    assert!(
        answer["detail"].as_str().unwrap().contains("unknown_kid"),
        "{answer}"
    );
    let (status, _) = scan(&app, checkpoint, "HC1:not*base45", "bad-2").await;
    assert_eq!(status, 422);
    // As long as a QR holds is read; longer is refused on the field.
    let long = format!("HC1:{}", "A".repeat(4_300));
    let (status, answer) = scan(&app, checkpoint, &long, "bad-3").await;
    assert_eq!(status, 422);
    assert!(answer.to_string().contains("4296"), "{answer}");
    assert_eq!(app.count("presence_events").await, before);
}

async fn a_certificate_issued_here_is_decided_by_the_residents_pass(app: TestApp) {
    // This deployment's own DSC, a dose, and the certificate the health officer gets.
    app.install_dsc().await;
    app.dose(0, "2021-09-01").await;
    let mine: Value = app
        .get_json(
            &format!("/api/v1/residents/{}/dcc", RESIDENTS[0].0),
            Some(&app.health),
        )
        .await;
    let hc1 = mine["hc1"].as_str().unwrap();
    let checkpoint = app.location("checkpoint", COMMUNE).await;

    // No declaration yet: refused as an identity look-up would be, under the resident's id.
    let (status, answer) = scan(&app, checkpoint, hc1, "own-1").await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(answer["reason"], "no_declaration", "{answer}");
    let (citizen, _, method, ..) = stored(&app, answer["event_id"].as_i64().unwrap()).await;
    assert_eq!(citizen.as_deref(), Some(RESIDENTS[0].0));
    assert_eq!(method, "dcc");

    // Declared green: admitted, with the records' vaccination state; declared sick (yellow): refused by colour.
    app.declare(vec![person(0)]).await;
    let (_, answer) = scan(&app, checkpoint, hc1, "own-2").await;
    assert_eq!(answer["decision"], "admit", "{answer}");
    assert_eq!(answer["status"], "green");
    assert_eq!(answer["vaccination"]["doses"], 1);
    let mut sick = person(0);
    sick["symptoms"] = json!(["fever"]);
    app.declare(vec![sick]).await;
    let (_, answer) = scan(&app, checkpoint, hc1, "own-3").await;
    assert_eq!(answer["decision"], "refuse", "{answer}");
    assert_eq!(answer["reason"], "status_yellow_not_admitted");
    assert_eq!(
        NaiveDate::parse_from_str(
            answer["vaccination"]["last_dose"].as_str().unwrap(),
            "%Y-%m-%d"
        )
        .unwrap(),
        NaiveDate::from_ymd_opt(2021, 9, 1).unwrap()
    );
}
