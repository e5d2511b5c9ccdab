//! Kept traces are written and read typed; a row that does not read is a corrupt-row error, not an empty trace.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

use kiemdich_domain::Span;
use kiemdich_domain::tracing::Exposure;
use kiemdich_store::{Contact, Store, StoreError, TraceResult};

/// A store in a fresh directory, removed when the test is done.
struct Temp(Store, std::path::PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.1);
    }
}

async fn store(name: &str) -> Temp {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("kiemdich-{name}-{}-{nanos}", std::process::id()));
    Temp(Store::open_data_dir(&dir).await.unwrap(), dir)
}

fn result() -> TraceResult {
    let exposure = Exposure {
        location_id: 7,
        from: 1_628_557_200,
        to: 1_628_559_000,
        minutes: 30,
    };
    TraceResult {
        contacts: vec![Contact {
            citizen: 94_090_123_457,
            degree: 1,
            exposures: vec![exposure],
            via: 94_090_123_456,
        }],
        min_overlap_minutes: 15,
        rule_version: "VN-2021-12".into(),
        window: Span {
            from: 1_628_442_000,
            to: 1_628_816_400,
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_trace_reads_back_as_it_was_written() {
    let t = store("trace-typed").await;
    let s = &t.0;
    assert!(s.latest_trace_result(1).await.unwrap().is_none());
    assert!(s.trace_run_result(1).await.unwrap().is_none());
    let r = result();
    let id = s.save_trace_result(1, &r, "test").await.unwrap();
    assert_eq!(
        s.latest_trace_result(1).await.unwrap(),
        Some((id, r.clone()))
    );
    assert_eq!(s.trace_run_result(id).await.unwrap(), Some((1, r.clone())));
    let csv = kiemdich_store::trace_csv(&r);
    assert!(csv.ends_with(
        "\n094090123457,1,094090123456,7,2021-08-10T01:00:00Z,2021-08-10T01:30:00Z,30\n"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_trace_that_does_not_read_is_corrupt() {
    let t = store("trace-corrupt").await;
    let s = &t.0;
    let id = s.save_trace_result(2, &result(), "test").await.unwrap();
    // Damaged outside the store, as a restore from a bad backup or a hand edit would.
    let url = format!("sqlite://{}", t.1.join("kiemdich.db").display());
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(&url).await.unwrap();
    sqlx::query("UPDATE tracing_runs SET result = '{\"contacts\": 3}'")
        .execute(&db)
        .await
        .unwrap();
    let corrupt = |e: StoreError| matches!(e, StoreError::Corrupt(m) if m.contains(&format!("tracing run {id}")));
    assert!(corrupt(s.latest_trace_result(2).await.unwrap_err()));
    assert!(corrupt(s.trace_run_result(id).await.unwrap_err()));
}
