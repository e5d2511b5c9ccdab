//! The demo's epidemic: confirmed cases among the demo's visitors over the last week, so that the health pages,
//! the map and the public page have something to show, and a few of them with their places published.

use crate::Result;
use kiemdich_domain::{CaseSource, CitizenId, RawCase, Rules};
use kiemdich_store::{ExposureWindow, NewCase, Store, TraceParams};

/// Every how many demo visitors one is a confirmed case.
const ONE_CASE_IN: usize = 100;
/// How many of the cases have their places published on the public page.
const PUBLISHED: usize = 4;

/// Opens the demo's F0 cases (onsets spread over the last six days) and publishes some of their places.
pub async fn seed(store: &Store, rules: &Rules, visitors: i64) -> Result<()> {
    let people = store
        .citizen_ids(visitors)
        .await
        .map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().timestamp();
    let dates = rules.dates_at(now);
    let mut cases = Vec::new();
    for (i, id) in people.iter().step_by(ONE_CASE_IN).enumerate() {
        let onset = dates.today - chrono::Duration::days((i % 6) as i64);
        let raw = RawCase {
            citizen_id: id.clone(),
            onset_date: Some(onset.to_string()),
            sample_date: Some(onset.to_string()),
            ..RawCase::default()
        };
        let report = raw
            .parse(&dates, CaseSource::Manual)
            .map_err(|e| format!("demo case {id}: {e}"))?;
        let Some(person) = store
            .resident(&report.citizen_id)
            .await
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        cases.push((
            NewCase::reported(&report, &person, &rules.version, dates.today),
            onset,
        ));
    }
    let new: Vec<NewCase> = cases.iter().map(|(c, _)| c.clone()).collect();
    let opened = store
        .open_cases(&new, "demo")
        .await
        .map_err(|e| e.to_string())?;
    for ((case, onset), opened) in cases.iter().zip(&opened).take(PUBLISHED) {
        publish(store, rules, &case.citizen_id, *onset, opened.case_id, now).await?;
    }
    Ok(())
}

/// Publishes a case's zones for the rules' default number of days.
async fn publish(
    store: &Store,
    rules: &Rules,
    citizen: &CitizenId,
    onset: chrono::NaiveDate,
    case_id: i64,
    now: i64,
) -> Result<()> {
    let p = TraceParams::new(rules, citizen, onset, None, None, None)?;
    let zones = store
        .zones(rules, p.citizen, p.window)
        .await
        .map_err(|e| e.to_string())?;
    let places: Vec<ExposureWindow> = zones.iter().map(ExposureWindow::from).collect();
    let until = now + i64::from(rules.exposure_publication_days) * 86_400;
    store
        .publish_exposures("demo", case_id, &places, until)
        .await
        .map_err(|e| e.to_string())
}
