//! FHIR import of doses over HTTP: transaction Bundles of Immunizations posted to `/fhir` by a system feed,
//! beside the same doses written straight through the store in the same run.

use crate::bench::BenchServer;
use crate::synth;
use kiemdich_domain::{CitizenId, Country, DoseSource, NewDose, VaccineProduct};
use serde_json::{Value, json};
use std::time::Instant;

type Result<T> = std::result::Result<T, String>;

/// Immunizations per transaction Bundle (about 500 KiB each).
const PER_BUNDLE: usize = 1_000;
const PRODUCT: &str = "EU/1/20/1528";
const DATES: [&str; 2] = ["2021-08-02", "2021-09-06"];

/// Adults of the bench registry (born before the doses), as many as asked.
fn adults(server: &BenchServer, n: usize) -> Vec<String> {
    let communes: Vec<String> = {
        let mut c: Vec<String> = server
            .state
            .units()
            .communes()
            .map(|u| u.code.to_string())
            .collect();
        c.sort();
        c
    };
    synth::registry(7, &communes)
        .take(server.declarations.len())
        .filter(|p| p.date_of_birth.as_str() < "2003-01-01")
        .map(|p| p.citizen_id)
        .take(n)
        .collect()
}

fn bundle(people: &[String], dose: usize) -> Vec<u8> {
    let system = kiemdich_server::fhir::DEFAULT_CITIZEN_SYSTEM;
    let entries: Vec<Value> = people
        .iter()
        .map(|id| {
            json!({"resource": {
                "resourceType": "Immunization", "status": "completed",
                "vaccineCode": {"coding": [{"system": "https://ec.europa.eu/health/documents/community-register/html/", "code": PRODUCT}]},
                "patient": {"reference": format!("Patient?identifier={system}|{id}")},
                "occurrenceDateTime": DATES[dose - 1], "lotNumber": "FF2021",
                "location": {"display": "Trạm Y tế"},
                "protocolApplied": [{"doseNumberPositiveInt": dose, "seriesDosesPositiveInt": 2}]},
                "request": {"method": "POST", "url": "Immunization"}})
        })
        .collect();
    serde_json::to_vec(&json!({"resourceType": "Bundle", "type": "transaction", "entry": entries}))
        .unwrap_or_default()
}

/// Posts two doses for each of `n` adults in Bundles of [`PER_BUNDLE`], then writes a third set of the
/// same size straight through the store as the anchor.
pub async fn bench_fhir(server: &BenchServer, backend: &str, n: usize) -> Result<()> {
    let people = adults(server, n);
    let token =
        crate::config::create_token(&server.state.store, "bench-feed", "integration", "94").await?;
    let bodies: Vec<Vec<u8>> = (1..=2)
        .flat_map(|dose| people.chunks(PER_BUNDLE).map(move |c| bundle(c, dose)))
        .collect();
    let client = reqwest::Client::new();
    let start = Instant::now();
    for body in bodies {
        let res = client
            .post(format!("{}/fhir", server.base))
            .bearer_auth(&token)
            .header("content-type", "application/fhir+json")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if res.status() != 200 {
            return Err(format!(
                "FHIR transaction: {}",
                res.text().await.unwrap_or_default()
            ));
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let posted = people.len() * 2;
    let rows: Vec<NewDose> = people
        .iter()
        .filter_map(|id| CitizenId::parse(id).ok())
        .map(|citizen| NewDose {
            citizen,
            product: VaccineProduct::parse(PRODUCT).unwrap_or_else(|_| unreachable!()),
            dose_number: 3,
            series_doses: 3,
            date: chrono::NaiveDate::from_ymd_opt(2022, 3, 1).unwrap_or_default(),
            lot: Some("FF2022".into()),
            site: None,
            country: Country::vietnam(),
            source: DoseSource::Fhir,
        })
        .collect();
    let start = Instant::now();
    for chunk in rows.chunks(PER_BUNDLE) {
        server
            .state
            .store
            .record_doses_all_or_nothing(chunk, "bench")
            .await
            .map_err(|e| e.to_string())?;
    }
    let anchor = rows.len() as f64 / start.elapsed().as_secs_f64();
    println!(
        "| FHIR transaction import over HTTP, {backend}, {posted} Immunizations in Bundles of {PER_BUNDLE} | {:.0} Immunizations/s | the store alone (record_doses_all_or_nothing, same batches) {anchor:.0} doses/s | ≥ 10,000/s into SQLite |",
        posted as f64 / secs
    );
    Ok(())
}
