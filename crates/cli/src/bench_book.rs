//! The electronic health book of a person with a year of history, read over HTTP by a health officer: 120
//! declarations (a pass every three days), 365 daily health updates, 3 doses, 56 scans in the last 28 days,
//! a case with 14 days of follow-ups. Beside it, in the same run, the registry read of the same person
//! (`GET /api/v1/residents/{id}`: one row and the latest pass) as the anchor.

use crate::bench::BenchServer;
use kiemdich_domain::{CitizenId, FollowUpChannel, FollowUpOutcome, HealthUpdate, Symptom};
use kiemdich_store::NewHealthUpdate;
use serde_json::{Value, json};
use std::time::Instant;

type Result<T> = std::result::Result<T, String>;

/// Reads measured of each path.
const READS: usize = 200;

async fn post(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Result<Value> {
    let res = client
        .post(url)
        .bearer_auth(token)
        .json(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status();
    let text = res.text().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        return Err(format!("{url}: {status} {text}"));
    }
    serde_json::from_str(&text).map_err(|e| e.to_string())
}

/// p50 and p99 (ms) of `READS` sequential GETs of `url`.
async fn reads(client: &reqwest::Client, url: &str, token: &str) -> Result<(f64, f64, usize)> {
    let mut ms = Vec::with_capacity(READS);
    let mut bytes = 0;
    for _ in 0..READS {
        let t = Instant::now();
        let res = client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !res.status().is_success() {
            return Err(format!("{url}: {}", res.status()));
        }
        bytes = res.bytes().await.map_err(|e| e.to_string())?.len();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    Ok((ms[READS / 2], ms[READS * 99 / 100], bytes))
}

pub async fn bench_book(server: &BenchServer, backend: &str) -> Result<()> {
    let st = &server.state;
    let client = reqwest::Client::new();
    let officer = crate::config::create_token(&st.store, "bench", "officer", "94").await?;
    let health = crate::config::create_token(&st.store, "bench", "health", "94").await?;
    let checkpoint = crate::config::create_token(&st.store, "bench", "checkpoint", "94").await?;
    let body: Value = serde_json::from_str(&server.declarations[0]).map_err(|e| e.to_string())?;
    let person = &body["people"][0];
    let id = person["citizen_id"].as_str().unwrap_or_default().to_owned();
    let citizen = CitizenId::parse(&id).map_err(|e| e.to_string())?;
    let commune = person["commune_code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let base = &server.base;

    // A year of declarations, every third day.
    let mut token = String::new();
    for _ in 0..120 {
        let answer = post(
            &client,
            &format!("{base}/api/v1/declarations"),
            &officer,
            &body,
        )
        .await?;
        token = answer["people"][0]["pass"]["token"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
    }
    // Three doses.
    for (n, date) in [(1, "2021-08-02"), (2, "2021-09-06"), (3, "2022-03-01")] {
        post(
            &client,
            &format!("{base}/api/v1/residents/{id}/vaccinations"),
            &health,
            &json!({"product": "Pfizer", "dose_number": n, "series_doses": 3, "date": date, "site": "Trạm Y tế"}),
        )
        .await?;
    }
    // Scans at a place: 56 in the last 28 days (the presence log keeps no more).
    let place = st
        .store
        .create_location(
            "bench",
            &kiemdich_store::NewPlace {
                name: "Chợ",
                kind: kiemdich_domain::LocationKind::Market,
                commune_code: &commune,
                address: "",
                coords: (9.6, 105.97),
                operator_org: "",
                dwell_minutes: 60,
                admits: kiemdich_domain::HealthStatus::ALL,
                vaccination: None,
                accepts_dcc: false,
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    for i in 0..56 {
        post(
            &client,
            &format!("{base}/api/v1/locations/{place}/scans"),
            &checkpoint,
            &json!({"token": token, "direction": if i % 2 == 0 { "in" } else { "out" }, "idempotency_key": format!("book-{i}")}),
        )
        .await?;
    }
    // A year of daily updates, written with their days.
    let now = chrono::Utc::now().timestamp();
    for d in (1..=365_i64).rev() {
        let at = now - d * 86_400;
        st.store
            .record_health_update(&NewHealthUpdate {
                citizen_id: citizen,
                commune_code: commune.clone(),
                day: st.rules.tracing.local_date(at),
                at,
                update: HealthUpdate {
                    temperature_c: Some(36.5 + (d % 10) as f32 / 10.0),
                    spo2: Some(96 + (d % 4) as u8),
                    symptoms: if d % 30 == 0 {
                        vec![Symptom::Cough]
                    } else {
                        Vec::new()
                    },
                    note: None,
                },
                urgent: false,
                entered_by: "bench".into(),
                notices: Vec::new(),
            })
            .await
            .map_err(|e| e.to_string())?;
    }
    // A case with two weeks of follow-ups.
    let case = post(
        &client,
        &format!("{base}/api/v1/cases"),
        &health,
        &json!({"citizen_id": id, "onset_date": (st.rules.tracing.local_date(now) - chrono::Duration::days(14)).to_string()}),
    )
    .await?;
    let case_id = case["id"].as_i64().unwrap_or_default();
    let today = st.rules.tracing.local_date(now);
    for d in 0..14 {
        st.store
            .record_follow_up(
                case_id,
                today - chrono::Duration::days(d),
                FollowUpOutcome::Well,
                FollowUpChannel::Call,
                "",
                "bench",
            )
            .await
            .map_err(|e| e.to_string())?;
    }

    let (p50, p99, bytes) = reads(
        &client,
        &format!("{base}/api/v1/residents/{id}/health-book"),
        &health,
    )
    .await?;
    let (a50, a99, _) = reads(&client, &format!("{base}/api/v1/residents/{id}"), &health).await?;
    println!(
        "| health book over HTTP, {backend}, a year of history (120 declarations and passes, 365 updates, 56 scans, 3 doses, a case, 14 follow-ups; {bytes} bytes), {READS} reads | p50 {p50:.1} ms, p99 {p99:.1} ms | registry read of the same person p50 {a50:.1} ms, p99 {a99:.1} ms | p50 ≤ 20 ms |"
    );
    Ok(())
}
