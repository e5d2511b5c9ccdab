//! The demo's proximity tracing: one confirmed case's phone has uploaded a week of keys with a code its health
//! officer issued, and one signed export batch publishes them, through the store paths the API and the hourly
//! job use, so that `/api/v1/proximity/exports` has a batch to download and the counts page a row. Seeded
//! once, while no batch exists.

use crate::Result;
use kiemdich_domain::{CaseClass, Rules};
use kiemdich_proximity::{EnIntervalNumber, TemporaryExposureKey};
use kiemdich_store::{CaseFilter, NewProximityCode, Store};
use std::path::Path;

/// Days of keys the demo phone uploads (today's and the six before).
const DEMO_KEY_DAYS: u32 = 7;

/// Uploads the newest confirmed case's keys and cuts a batch; how many keys were published (0 when a batch
/// existed or no confirmed case has an onset date).
pub async fn seed(store: &Store, rules: &Rules, data_dir: &Path, issuer: &str) -> Result<i64> {
    let err = |e: kiemdich_store::StoreError| e.to_string();
    if !store.proximity_exports().await.map_err(err)?.is_empty() {
        return Ok(0);
    }
    let communes: Vec<String> = store
        .units()
        .await
        .map_err(err)?
        .into_iter()
        .map(|u| u.code.to_string())
        .collect();
    let filter = CaseFilter {
        class: Some(CaseClass::F0),
        limit: 1,
        ..CaseFilter::default()
    };
    let Some(case) = store
        .case_list(&communes, &filter)
        .await
        .map_err(err)?
        .into_iter()
        .map(|row| row.case)
        .find(|c| c.onset_date.is_some())
    else {
        return Ok(0);
    };
    let now = chrono::Utc::now().timestamp();
    let today = rules.tracing.local_date(now);
    let first = case.onset_date.unwrap_or(today)
        - chrono::Duration::days(i64::from(rules.tracing.infectious_days_before_onset));
    // The code is never shown: its hash is a random value no one can type.
    let mut secret = [0u8; 16];
    getrandom::fill(&mut secret).map_err(|e| e.to_string())?;
    let code_hash = format!("demo:{}", kiemdich_proximity::hex(&secret));
    let code = NewProximityCode {
        code_hash: code_hash.clone(),
        case_id: case.id,
        unit_code: case.commune_code.clone(),
        window_start: EnIntervalNumber::from_unix(rules.tracing.day_start(first)),
        expires_at: now + 3600,
    };
    store
        .issue_proximity_code("demo", &code, today, None)
        .await
        .map_err(err)?;
    let today_start = EnIntervalNumber::from_unix(now).0 / 144 * 144;
    let keys = (0..DEMO_KEY_DAYS)
        .map(|d| {
            let start = EnIntervalNumber(today_start - d * 144);
            let mut failed = None;
            let key = TemporaryExposureKey::generate(start, |k| {
                failed = getrandom::fill(k).err();
            });
            failed.map_or(Ok(key), |e| Err(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    store
        .upload_proximity_keys(&code_hash, &keys, now, today)
        .await
        .map_err(err)?;
    let batch = store
        .cut_proximity_export(data_dir, kiemdich_server::proximity_region(issuer))
        .await
        .map_err(err)?;
    Ok(batch.map_or(0, |b| b.keys))
}
