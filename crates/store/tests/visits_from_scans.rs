//! Admitted scans open and close visits, the input of tracing: an exit closes the person's latest visit to the
//! place still open, exits of many people share one statement, and two exits of one person from one place in
//! one group close their visits one after the other, as they would in two groups. On SQLite, and on PostgreSQL
//! when `KIEMDICH_TEST_PG_URL` is set.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

mod common;
mod places;

use kiemdich_domain::{Direction, Span};
use kiemdich_store::{Store, VisitKey};
use places::scan;

const A: &str = "094090123456";
const B: &str = "094090123457";
const C: &str = "094090123458";

async fn stores(name: &str) -> Vec<Store> {
    let dir = std::env::temp_dir().join(format!("kiemdich-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut out = vec![Store::open_data_dir(&dir).await.unwrap()];
    if let Some(url) = common::fresh_pg(name).await {
        out.push(Store::connect(&url).await.unwrap());
    }
    out
}

/// (entered, exited) of a person's visits, oldest first.
async fn stays(store: &Store, citizen: &str, around: i64) -> Vec<(i64, Option<i64>)> {
    let number = kiemdich_store::citizen_number(citizen).unwrap();
    let span = Span {
        from: around - 86_400,
        to: around + 86_400,
    };
    let mut v: Vec<(i64, Option<i64>)> = store
        .visits_in(VisitKey::Citizen, &[(number, span, 0)])
        .await
        .unwrap()
        .iter()
        .map(|v| (v.entered_at, v.exited_at))
        .collect();
    v.sort_unstable();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_close_the_latest_open_visit_in_order() {
    for store in stores("visits_from_scans").await {
        let place = places::market(&store).await;
        let t = chrono::Utc::now().timestamp() - 7200;
        let one = |c, d, at, k| scan(place, c, d, at, k);
        for s in [
            one(A, Direction::In, t, "a1"),
            one(B, Direction::In, t, "b1"),
        ] {
            store.record_scan(s).await.unwrap();
        }
        // Two people leave in one group: one statement closes both.
        store
            .record_scans(vec![
                one(A, Direction::Out, t + 600, "a2"),
                one(B, Direction::Out, t + 900, "b2"),
            ])
            .await
            .unwrap();
        assert_eq!(stays(&store, A, t).await, vec![(t, Some(t + 600))]);
        assert_eq!(stays(&store, B, t).await, vec![(t, Some(t + 900))]);
        // A enters twice without leaving, then both exits come in one group: the first closes the later visit,
        // the second the earlier one, as two groups would.
        for (at, key) in [(t + 1000, "a3"), (t + 1100, "a4")] {
            store
                .record_scan(one(A, Direction::In, at, key))
                .await
                .unwrap();
        }
        store
            .record_scans(vec![
                one(A, Direction::Out, t + 2000, "a5"),
                one(A, Direction::Out, t + 2100, "a6"),
            ])
            .await
            .unwrap();
        assert_eq!(
            stays(&store, A, t).await,
            vec![
                (t, Some(t + 600)),
                (t + 1000, Some(t + 2100)),
                (t + 1100, Some(t + 2000))
            ],
            "on {:?}",
            store.backend()
        );
        // An exit with no open visit changes nothing.
        store
            .record_scan(one(B, Direction::Out, t + 3000, "b3"))
            .await
            .unwrap();
        assert_eq!(stays(&store, B, t).await, vec![(t, Some(t + 900))]);
        // In and out again in one group: the exit closes the visit the entry opened.
        store
            .record_scans(vec![
                one(B, Direction::In, t + 4000, "b4"),
                one(B, Direction::Out, t + 4500, "b5"),
            ])
            .await
            .unwrap();
        assert_eq!(
            stays(&store, B, t).await,
            vec![(t, Some(t + 900)), (t + 4000, Some(t + 4500))],
            "on {:?}",
            store.backend()
        );
        // A visit begun on the day before (another day partition on PostgreSQL) is closed by an exit in a
        // group whose scans are hours apart; the entry that came after the exit stays open.
        let midnight = t - t.rem_euclid(86_400);
        for (s, at) in [(C, midnight - 600), (A, t + 4900), (C, midnight + 900)] {
            let key = format!("{s}{at}");
            store
                .record_scan(scan(place, s, Direction::In, at, &key))
                .await
                .unwrap();
        }
        store
            .record_scans(vec![
                one(A, Direction::Out, t + 5000, "a7"),
                one(C, Direction::Out, midnight + 600, "c1"),
            ])
            .await
            .unwrap();
        assert_eq!(
            stays(&store, C, midnight).await,
            vec![
                (midnight - 600, Some(midnight + 600)),
                (midnight + 900, None)
            ],
            "on {:?}",
            store.backend()
        );
        assert!(
            stays(&store, A, t)
                .await
                .contains(&(t + 4900, Some(t + 5000)))
        );
    }
}
