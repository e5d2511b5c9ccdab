//! HC1 certificates in service: a DSC installed (refused when it matches no requested key, may not sign
//! vaccinations, or has expired), certificates issued for a person's latest dose and served again until the doses
//! change, verified by the crate against the published trust list, their QR (error correction Q) decoding to the
//! same string; 404 without a dose or outside the jurisdiction, 503 without a DSC; the resident's own; foreign
//! trust lists imported entry by entry. Both backends.

#![expect(clippy::unwrap_used, reason = "tests fail loudly")]

#[macro_use]
mod common;

use chrono::{Duration, Utc};
use common::{OTHER_COMMUNE, RESIDENTS, TestApp};
use kiemdich_dcc::{CertType, Csca, TrustList};
use kiemdich_store::Role;
use serde_json::{Value, json};

on_both_backends!(
    a_certificate_is_issued_verified_and_served_again_until_the_doses_change,
    no_dose_no_signer_and_other_communes_are_refused_and_the_resident_gets_their_own,
    a_dsc_is_installed_only_for_a_requested_key_with_usage_and_validity,
    a_trust_list_import_keeps_good_entries_and_reports_bad_ones,
);

/// A CSCA made `years_ago`, and a DSC request whose key lies in the app's keys/ under `name`.
fn request(app: &TestApp, name: &str) -> Vec<u8> {
    let req = kiemdich_dcc::dsc_request("VN", "kiemdich test DSC").unwrap();
    let keys = app.data_dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    std::fs::write(keys.join(format!("dcc-dsc-{name}.key.pem")), req.key_pem).unwrap();
    req.request_pem.into_bytes()
}

fn dcc_path(i: usize) -> String {
    format!("/api/v1/residents/{}/dcc", RESIDENTS[i].0)
}

async fn a_certificate_is_issued_verified_and_served_again_until_the_doses_change(app: TestApp) {
    let csca = app.install_dsc().await;
    app.dose(0, "2021-09-01").await;
    let res = app.get(&dcc_path(0), Some(&app.health)).await;
    assert_eq!(res.status(), 200);
    let first: Value = res.json().await.unwrap();
    let hc1 = first["hc1"].as_str().unwrap();
    assert!(hc1.starts_with("HC1:"), "{first}");
    assert!(
        first["uvci"]
            .as_str()
            .unwrap()
            .starts_with("URN:UVCI:01:VN:"),
        "{first}"
    );
    assert!(chrono::DateTime::parse_from_rfc3339(first["expires_at"].as_str().unwrap()).is_ok());

    // The published trust list verifies it, and names the CSCA.
    let published = app
        .get("/api/v1/dcc/trust-list", None)
        .await
        .text()
        .await
        .unwrap();
    let trust = TrustList::from_json(&published).unwrap();
    assert_eq!(trust.len(), 1);
    let body: Value = serde_json::from_str(&published).unwrap();
    use base64::Engine as _;
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(body["csca"].as_str().unwrap())
            .unwrap(),
        csca.cert_der().unwrap()
    );
    let report = kiemdich_dcc::verify(hc1, &trust, Utc::now());
    assert!(report.valid(), "{:?} {:?}", report.reason, report.detail);
    let payload = report.payload.unwrap();
    assert_eq!(payload["nam"]["fn"], "Nguyễn");
    assert_eq!(payload["nam"]["gnt"], "VAN<AN");
    assert_eq!(payload["dob"], "1990-05-17");
    assert_eq!(payload["v"][0]["mp"], "EU/1/20/1528");
    assert_eq!(payload["v"][0]["dn"], 1);
    assert_eq!(payload["v"][0]["is"], "Ministry of Health Viet Nam");
    assert_eq!(payload["v"][0]["ci"], first["uvci"]);

    // Served again unchanged; the QR holds exactly that string.
    let again: Value = app.get_json(&dcc_path(0), Some(&app.health)).await;
    assert_eq!(again, first);
    let res = app
        .get(&format!("{}/qr.png", dcc_path(0)), Some(&app.health))
        .await;
    assert_eq!(res.headers()["content-type"], "image/png");
    let (content, ecc_level) = common::read_qr_png(&res.bytes().await.unwrap());
    assert_eq!(content, hc1);
    assert_eq!(ecc_level, 3, "error correction Q");

    // A second dose issues a new certificate for it.
    app.dose(0, "2021-10-01").await;
    let second: Value = app.get_json(&dcc_path(0), Some(&app.health)).await;
    assert_ne!(second["uvci"], first["uvci"]);
    let report = kiemdich_dcc::verify(second["hc1"].as_str().unwrap(), &trust, Utc::now());
    assert_eq!(report.payload.unwrap()["v"][0]["dn"], 2);
    assert_eq!(app.count("dcc_issued").await, 2);

    // A name corrected in the registry issues a new certificate with that name; the doses are unchanged.
    let id = kiemdich_domain::CitizenId::parse(RESIDENTS[0].0).unwrap();
    let mut person = app.store.resident(&id).await.unwrap().unwrap();
    person.full_name = kiemdich_domain::FullName::parse("Nguyễn Văn Ánh").unwrap();
    app.store.upsert_residents(&[person]).await.unwrap();
    let third: Value = app.get_json(&dcc_path(0), Some(&app.health)).await;
    assert_ne!(third["uvci"], second["uvci"]);
    let report = kiemdich_dcc::verify(third["hc1"].as_str().unwrap(), &trust, Utc::now());
    assert_eq!(report.payload.unwrap()["nam"]["gnt"], "VAN<ANH");
}

async fn no_dose_no_signer_and_other_communes_are_refused_and_the_resident_gets_their_own(
    app: TestApp,
) {
    app.dose(0, "2021-09-01").await;
    // No DSC yet: 503 saying so.
    let res = app.get(&dcc_path(0), Some(&app.health)).await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().contains("DSC"), "{body}");
    app.install_dsc().await;
    // No dose: 404 saying so.
    let res = app.get(&dcc_path(1), Some(&app.health)).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("mũi tiêm"),
        "{body}"
    );
    // Health staff of another commune: not found; an officer: forbidden.
    let other = app.token(Role::Health, OTHER_COMMUNE).await;
    assert_eq!(app.get(&dcc_path(0), Some(&other)).await.status(), 404);
    assert_eq!(
        app.get(&dcc_path(0), Some(&app.officer)).await.status(),
        403
    );
    // The resident's own, the same certificate staff get.
    let staff: Value = app.get_json(&dcc_path(0), Some(&app.health)).await;
    let (res, _) = app.resident_sign_in(0).await;
    let session = res.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let mine: Value = app.get_json("/api/v1/me/dcc", Some(&session)).await;
    assert_eq!(mine, staff);
    let res = app.get("/api/v1/me/dcc/qr.png", Some(&session)).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/png");
}

async fn a_dsc_is_installed_only_for_a_requested_key_with_usage_and_validity(app: TestApp) {
    let now = Utc::now();
    let csca = Csca::generate("VN", "CSCA", now - Duration::days(800), 5).unwrap();
    let refuse = async |cert: Vec<u8>, says: &str| {
        let err = kiemdich_store::dcc::install(&app.store, &app.data_dir, &cert, None, now)
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains(says), "{err}");
    };
    // A request whose key is not here.
    let stranger = kiemdich_dcc::dsc_request("VN", "elsewhere").unwrap();
    let cert = csca
        .sign_request(
            stranger.request_pem.as_bytes(),
            &[CertType::Vaccination],
            now,
            30,
        )
        .unwrap();
    refuse(cert, "matches no DSC key").await;
    // A DSC for tests only.
    let cert = csca
        .sign_request(&request(&app, "t"), &[CertType::Test], now, 30)
        .unwrap();
    refuse(cert, "may not sign vaccination").await;
    // An expired DSC.
    let cert = csca
        .sign_request(
            &request(&app, "e"),
            &[CertType::Vaccination],
            now - Duration::days(700),
            30,
        )
        .unwrap();
    refuse(cert, "expired").await;
    assert_eq!(app.count("dcc_dscs").await, 0);
    app.state.refresh().await.unwrap();
    assert!(app.state.dcc_signer().is_none());
    // A good one goes into service.
    let cert = csca
        .sign_request(&request(&app, "g"), &[CertType::Vaccination], now, 30)
        .unwrap();
    kiemdich_store::dcc::install(&app.store, &app.data_dir, &cert, None, now)
        .await
        .unwrap();
    app.state.refresh().await.unwrap();
    assert!(app.state.dcc_signer().is_some());
}

async fn a_trust_list_import_keeps_good_entries_and_reports_bad_ones(app: TestApp) {
    let now = Utc::now();
    let csca = Csca::generate("DE", "foreign CSCA", now, 5).unwrap();
    let foreign = kiemdich_dcc::dsc_request("DE", "foreign DSC").unwrap();
    let der = csca
        .sign_request(foreign.request_pem.as_bytes(), &[], now, 30)
        .unwrap();
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let kid = b64(&kiemdich_dcc::kid_of(&der));
    let list = json!({"certificates": [
        {"kid": kid, "certificate": b64(&der)},
        {"kid": "AAAAAAAAAAA=", "certificate": b64(&der)},
        {"kid": kid, "certificate": "not base64!"},
        {"kid": kid},
    ]})
    .to_string();
    let done = kiemdich_store::dcc::import_trust(&app.store, &list, "de.json")
        .await
        .unwrap();
    assert_eq!((done.inserted, done.unchanged), (1, 0));
    assert_eq!(done.rejected.len(), 3, "{:?}", done.rejected);
    assert!(
        done.rejected[0].starts_with("certificates[1]: kid:"),
        "{:?}",
        done.rejected
    );
    assert!(done.rejected[1].starts_with("certificates[2]: certificate:"));
    assert!(done.rejected[2].starts_with("certificates[3]: certificate: missing"));
    // Again: nothing new.
    let again = kiemdich_store::dcc::import_trust(&app.store, &list, "de.json")
        .await
        .unwrap();
    assert_eq!((again.inserted, again.unchanged), (0, 1));
    // The server trusts it for verification; the published list stays the deployment's own.
    app.state.refresh().await.unwrap();
    assert_eq!(app.state.dcc_trust().len(), 1);
    let published: Value = app.get_json("/api/v1/dcc/trust-list", None).await;
    assert_eq!(published, json!({"certificates": [], "csca": null}));
}
