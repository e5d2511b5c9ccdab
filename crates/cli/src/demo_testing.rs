//! The demo's samples and results: in the first commune, a negative pool of five, a positive pool of five
//! (its members ordered to be sampled again, the commune told), one person's PCR awaiting its result and one
//! rapid antigen test awaiting collection, written through the same paths the laboratory uses, so that the
//! lab account (`xetnghiem`) has a work list and residents see results. Seeded once, into an empty table.

use crate::Result;
use kiemdich_domain::{ResultSource, Rules, SampleReason, TestResult, TestType};
use kiemdich_store::{CheckedResult, NewSample, Store, Target};

/// Orders, pools and results the demo's samples; how many samples it wrote (0 when some existed).
pub async fn seed(store: &Store, population: i64) -> Result<usize> {
    let err = |e: kiemdich_store::StoreError| e.to_string();
    if store.count_samples().await.map_err(err)? > 0 {
        return Ok(0);
    }
    let ids = store.citizen_ids(population.min(12)).await.map_err(err)?;
    let people = store.residents(&ids).await.map_err(err)?;
    if people.len() < 12 {
        return Ok(0);
    }
    let now = chrono::Utc::now().timestamp();
    let collected = now - 20 * 3600;
    let samples: Vec<NewSample> = people
        .iter()
        .enumerate()
        .map(|(i, p)| NewSample {
            citizen_id: p.citizen_id,
            commune_code: p.commune_code.to_string(),
            reason: if i < 10 {
                SampleReason::Screening
            } else {
                SampleReason::Suspected
            },
            test_type: if i == 11 {
                TestType::RapidAntigen
            } else {
                TestType::Pcr
            },
            due_on: None,
            collected_at: (i < 11).then_some(collected),
            collected_where: Some("Trạm Y tế".into()),
            follows: None,
        })
        .collect();
    let ordered = store.order_samples(&samples, "demo").await.map_err(err)?;
    let id: Vec<i64> = ordered.iter().map(|(id, _)| *id).collect();
    let (negative, _) = store.create_pool(&id[0..5], "demo").await.map_err(err)?;
    let (positive, _) = store.create_pool(&id[5..10], "demo").await.map_err(err)?;
    let result = |target, result| CheckedResult {
        target,
        result,
        tested_at: now - 4 * 3600,
        lab: "CDC Sóc Trăng".into(),
        ct: None,
        source: ResultSource::Entered,
    };
    store
        .record_results(
            &[
                result(Target::Pool(negative), TestResult::Negative),
                result(Target::Pool(positive), TestResult::Positive),
            ],
            &Rules::default(),
            "demo",
        )
        .await
        .map_err(err)?;
    Ok(ordered.len())
}
