//! The dose write path the FHIR facade and the CSV import use: `Store::record_doses` in batches of 10,000 (one
//! transaction each, as one FHIR transaction Bundle), each dose answered inserted, unchanged or conflicting and
//! each new one audited; beside a raw multi-row INSERT of the same rows in one transaction per batch.

use crate::Result;
use kiemdich_domain::{CitizenId, Country, DoseSource, NewDose, Site, VaccineProduct};
use kiemdich_store::{Backend, DoseOutcome, Store, values_placeholders};
use sqlx::{AssertSqlSafe, Connection, Executor};
use std::time::Instant;

/// Doses per batch: one FHIR transaction of this size.
const BATCH: usize = 10_000;

fn doses(n: usize) -> Result<Vec<NewDose>> {
    let products: Vec<VaccineProduct> = ["AstraZeneca", "Vero Cell", "Pfizer", "Moderna"]
        .iter()
        .map(|p| VaccineProduct::parse(p).map_err(|e| e.to_string()))
        .collect::<Result<_>>()?;
    let day = |i: usize| {
        chrono::NaiveDate::from_ymd_opt(2021, 7, 1).unwrap_or_default()
            + chrono::Duration::days(i64::try_from(i % 300).unwrap_or(0))
    };
    (0..n)
        .map(|i| {
            let product = products[i % products.len()];
            Ok(NewDose {
                citizen: CitizenId::parse(&format!("0940900{:05}", i / 2 % 100_000))
                    .map_err(|e| e.to_string())?,
                product,
                dose_number: u8::from(i % 2 == 1) + 1,
                series_doses: product.series_doses(),
                date: day(i),
                lot: Some(format!("L{:05}", i % 50_000)),
                site: Some(Site::Facility {
                    name: "Trạm Y tế Phường 2".into(),
                    unit: None,
                }),
                country: Country::vietnam(),
                source: DoseSource::Fhir,
            })
        })
        .collect()
}

/// The same rows by a raw multi-row INSERT, one transaction per batch.
async fn raw_insert(url: &str, backend: Backend, rows: &[NewDose]) -> Result<f64> {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    conn.execute("DELETE FROM doses")
        .await
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    for batch in rows.chunks(BATCH) {
        let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
        for chunk in batch.chunks(500) {
            let sql = format!(
                "INSERT INTO doses (citizen_id, product, dose_number, series_doses, date, lot, site_name, country, source, recorded_by, recorded_at) VALUES {}",
                values_placeholders(backend, chunk.len(), 11)
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for d in chunk {
                q = q
                    .bind(d.citizen.as_str().to_owned())
                    .bind(d.product.mp())
                    .bind(i64::from(d.dose_number))
                    .bind(i64::from(d.series_doses))
                    .bind(d.date.to_string())
                    .bind(d.lot.clone())
                    .bind("Trạm Y tế Phường 2")
                    .bind("VN")
                    .bind("fhir")
                    .bind("bench")
                    .bind(0_i64);
            }
            q.execute(&mut *tx).await.map_err(|e| e.to_string())?;
        }
        tx.commit().await.map_err(|e| e.to_string())?;
    }
    Ok(rows.len() as f64 / start.elapsed().as_secs_f64())
}

pub async fn bench_doses(store: &Store, url: &str, backend: &str, n: usize) -> Result<()> {
    let rows = doses(n)?;
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .map_err(|e| e.to_string())?;
    conn.execute("DELETE FROM doses")
        .await
        .map_err(|e| e.to_string())?;
    let start = Instant::now();
    let mut inserted = 0;
    for batch in rows.chunks(BATCH) {
        let out = store
            .record_doses(batch, "bench")
            .await
            .map_err(|e| e.to_string())?;
        inserted += out.iter().filter(|o| **o == DoseOutcome::Inserted).count();
    }
    let ours = n as f64 / start.elapsed().as_secs_f64();
    let start = Instant::now();
    for batch in rows.chunks(BATCH) {
        store
            .record_doses(batch, "bench")
            .await
            .map_err(|e| e.to_string())?;
    }
    let again = n as f64 / start.elapsed().as_secs_f64();
    let anchor = raw_insert(url, store.backend(), &rows).await?;
    println!(
        "| dose writes (record_doses), {backend}, {n} doses in batches of {BATCH} | {ours:.0} doses/s ({inserted} inserted, audited); the same again {again:.0} doses/s, all unchanged | raw multi-row INSERT {anchor:.0} rows/s | ≥ 10,000 doses/s (FHIR import) |"
    );
    Ok(())
}
