//! A person's events are found wherever the person index holds them: on SQLite in sorted runs made behind the
//! scan commits, runs merged into larger ones, and the tail of newest rows not yet in a run
//! (`person_runs.rs`); on PostgreSQL (when `KIEMDICH_TEST_PG_URL` is set) in its index, with the same answers.
//! The retention purge drops whole runs, and an event id it frees and SQLite gives again never shows one person
//! another's event.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

mod common;
mod places;

use kiemdich_domain::Direction;
use kiemdich_store::{NewScan, Store};
use sqlx::{Connection, SqliteConnection};
use std::path::{Path, PathBuf};

/// The scans that make runs: nine runs of 16,384 (eight merged into one of the next level) and a tail.
const SCANS: usize = 16_384 * 9 + 1_000;
const PEOPLE: usize = 307;

fn citizen(n: usize) -> String {
    format!("0940{:08}", n)
}

/// An entry of `who` at `place`, keyed `key`.
fn entry(place: i64, who: &str, at: i64, key: &str) -> NewScan {
    places::scan(place, who, Direction::In, at, key)
}

/// Stores `scans` in batches of 500, as offline scanners send them.
async fn record(store: &Store, scans: Vec<NewScan>) {
    let mut scans = scans.into_iter().peekable();
    while scans.peek().is_some() {
        let batch: Vec<NewScan> = scans.by_ref().take(500).collect();
        for r in store.record_scans(batch).await.unwrap() {
            r.unwrap();
        }
    }
}

/// The keys of a person's events since `from`, as the store answers them (newest first).
async fn keys_of(store: &Store, who: &str, from: i64) -> Vec<String> {
    store
        .visits_of(who, from, 100_000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.request_hash)
        .collect()
}

fn sqlite_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiemdich-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// (level, runs) of the person index in the SQLite database under `dir`.
async fn levels(dir: &Path) -> Vec<(i64, i64)> {
    let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    sqlx::query_as("SELECT level, COUNT(*) FROM person_runs GROUP BY level ORDER BY level")
        .fetch_all(&mut conn)
        .await
        .unwrap()
}

/// Asserts that the runs by level become `want` within five seconds: the person index catches up on the scan
/// writer after a group's answers are sent, so just after a write it may not have yet.
async fn assert_levels_become(dir: &Path, want: &[(i64, i64)]) {
    let mut got = levels(dir).await;
    for _ in 0..100 {
        if got == want {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        got = levels(dir).await;
    }
    assert_eq!(got, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_persons_events_come_from_every_run_merged_or_not_and_the_tail() {
    let dir = sqlite_dir("person_index");
    let mut stores = vec![Store::open_data_dir(&dir).await.unwrap()];
    if let Some(url) = common::fresh_pg("person_index").await {
        stores.push(Store::connect(&url).await.unwrap());
    }
    // Midnight (UTC) of 14 Nov 2023: runs merge only with runs of their day, and all these fit in one.
    let base = 19_675 * 86_400;
    for store in &stores {
        let place = places::market(store).await;
        // Two scans a second, people in turn: every person's events span every run.
        let at = |i: usize| base + (i / 2) as i64;
        let scans = (0..SCANS)
            .map(|i| entry(place, &citizen(i % PEOPLE), at(i), &format!("k{i}")))
            .collect();
        record(store, scans).await;
        for n in [0, 1, 150, PEOPLE - 1] {
            let from = base + 20_000;
            let expected: Vec<String> = (0..SCANS)
                .rev()
                .filter(|&i| i % PEOPLE == n && at(i) >= from)
                .map(|i| format!("k{i}"))
                .collect();
            assert!(expected.len() > 300, "{}", expected.len());
            assert_eq!(
                keys_of(store, &citizen(n), from).await,
                expected,
                "person {n}"
            );
        }
        assert!(keys_of(store, &citizen(PEOPLE), base).await.is_empty());
    }
    // Nine runs of level 0 were made; the first eight became one of level 1.
    assert_levels_become(&dir, &[(0, 1), (1, 1)]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purge_drops_old_runs_and_a_freed_id_given_again_shows_no_one_else() {
    let dir = sqlite_dir("person_index_purge");
    let store = Store::open_data_dir(&dir).await.unwrap();
    let place = places::market(&store).await;
    let (a, b) = (citizen(1), citizen(2));
    let now = 1_800_000_000;
    // A run of A's scans: the newest events by time first, then, with the highest ids, a few from long ago
    // (an offline scanner's queue), which the purge deletes and so frees their ids.
    let recent = (0..16_384).map(|i| entry(place, &a, now + i, &format!("a{i}")));
    let old = (0..10).map(|i| entry(place, &a, 1_000 + i, &format!("old{i}")));
    record(&store, recent.chain(old).collect()).await;
    assert_levels_become(&dir, &[(0, 1)]).await;
    store.purge_presence(now).await.unwrap();
    // B's scans take the freed ids; the run still holds A's entries under them.
    record(
        &store,
        (0..10)
            .map(|i| entry(place, &b, now + 100_000 + i, &format!("b{i}")))
            .collect(),
    )
    .await;
    let a_keys = keys_of(&store, &a, 0).await;
    assert_eq!(a_keys.len(), 16_384);
    assert!(a_keys.iter().all(|k| k.starts_with('a')), "{a_keys:?}");
    assert_eq!(keys_of(&store, &b, 0).await.len(), 10);
    // Once A's run is past the retention too, it goes whole.
    store.purge_presence(now + 50_000).await.unwrap();
    assert_eq!(levels(&dir).await, vec![]);
    assert!(keys_of(&store, &a, 0).await.is_empty());
    assert_eq!(keys_of(&store, &b, 0).await.len(), 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_cut_short_by_a_restart_is_never_read_and_is_dropped_when_the_writer_starts_again()
{
    let dir = sqlite_dir("person_index_restart");
    let store = Store::open_data_dir(&dir).await.unwrap();
    let place = places::market(&store).await;
    let a = citizen(1);
    let at = 1_900_000_000;
    record(
        &store,
        (0..16_384)
            .map(|i| entry(place, &a, at + i, &format!("a{i}")))
            .collect(),
    )
    .await;
    assert_levels_become(&dir, &[(0, 1)]).await;
    // What a crash in the middle of a merge leaves: a run still being filled, here with a second entry for A's
    // first event, which a reader of the unfinished run would show twice.
    let url = format!("sqlite://{}", dir.join("kiemdich.db").display());
    let mut conn = SqliteConnection::connect(&url).await.unwrap();
    for sql in [
        "INSERT INTO person_runs (id, level, entries, newest_at) VALUES (99, -1, 0, 0)",
        "CREATE TABLE person_run_99 (citizen_id TEXT NOT NULL, at BIGINT NOT NULL, event BIGINT NOT NULL, \
         PRIMARY KEY (citizen_id, at, event)) WITHOUT ROWID",
        "INSERT INTO person_run_99 SELECT citizen_id, at, id FROM presence_events ORDER BY id LIMIT 1",
    ] {
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
    drop(store);
    let store = Store::open_data_dir(&dir).await.unwrap();
    assert_eq!(keys_of(&store, &a, 0).await.len(), 16_384);
    record(&store, vec![entry(place, &a, at + 100_000, "after")]).await;
    assert_levels_become(&dir, &[(0, 1)]).await;
    let left: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'person_run_99'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    assert_eq!(left, 0);
    assert_eq!(keys_of(&store, &a, 0).await.len(), 16_385);
}
