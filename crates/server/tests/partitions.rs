//! Day partitions of the presence log and visits (PostgreSQL; SQLite keeps single tables and must behave the
//! same): partitions made ahead with a DEFAULT one, retention by dropping whole days, and a scan's idempotency
//! key holding across days.

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

#[macro_use]
mod common;

use common::{COMMUNE, TestApp};
use kiemdich_domain::{Decision, Direction, HealthStatus, ScanMethod, Visit};
use kiemdich_store::{Backend, NewScan};
use serde_json::{Value, json};
use sqlx::Connection;

on_both_backends!(
    day_partitions_are_made_ahead_and_a_default_takes_the_rest,
    retention_drops_whole_days_and_keeps_newer_rows,
    a_scan_key_is_replayed_and_refused_across_days,
);

const DAY: i64 = 86_400;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

fn day_name(table: &str, t: i64) -> String {
    let date = chrono::DateTime::from_timestamp(t, 0).unwrap();
    format!("{table}_p{}", date.format("%Y%m%d"))
}

/// Waits for the server's start-up jobs: the partitions made (PostgreSQL) and the first retention purge run,
/// so that neither acts on rows a test writes afterwards.
async fn settled(app: &TestApp) {
    let ahead = i64::from(app.state.rules.presence_partitions_ahead_days);
    let last = day_name("visits", now() + ahead * DAY);
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    let started = std::time::Instant::now();
    loop {
        let purges: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'presence.purge'")
                .fetch_one(&db)
                .await
                .unwrap();
        let made = app.store.backend() == Backend::Sqlite
            || app
                .store
                .partitions("visits")
                .await
                .unwrap()
                .contains(&last);
        if purges > 0 && made {
            return;
        }
        assert!(started.elapsed().as_secs() < 60, "start-up jobs never ran");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// A visit of the person [`scan_at`] scans (whose admitted entry opens the same visit, a no-op after this).
fn visit(location_id: i64, at: i64) -> Visit {
    Visit {
        location_id,
        citizen: 94_090_123_456,
        entered_at: at,
        exited_at: Some(at + 1800),
    }
}

fn scan_at(location_id: i64, at: i64, key: &str) -> NewScan {
    NewScan {
        location_id,
        citizen_id: Some("094090123456".into()),
        pass_id: None,
        direction: Direction::In,
        at,
        device: "test-device".into(),
        method: ScanMethod::Pass,
        decision: Decision::Admit,
        reason: "admitted".into(),
        status: Some(HealthStatus::Green),
        travel_from: None,
        travel_to: None,
        idempotency_key: key.into(),
        request_hash: key.into(),
    }
}

async fn rows_in(app: &TestApp, table: &str) -> i64 {
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&db)
        .await
        .unwrap()
}

async fn day_partitions_are_made_ahead_and_a_default_takes_the_rest(app: TestApp) {
    settled(&app).await;
    let t = now();
    let rules = &app.state.rules;
    for table in ["presence_events", "visits"] {
        let parts = app.store.partitions(table).await.unwrap();
        if app.store.backend() == Backend::Sqlite {
            assert!(parts.is_empty(), "SQLite keeps one table");
            continue;
        }
        let days = -i64::from(rules.presence_retention_days)
            ..=i64::from(rules.presence_partitions_ahead_days);
        for d in days.clone() {
            assert!(
                parts.contains(&day_name(table, t + d * DAY)),
                "{table} day {d}: {parts:?}"
            );
        }
        assert!(parts.contains(&format!("{table}_default")), "{parts:?}");
        assert_eq!(parts.len(), days.count() + 1, "{parts:?}");
    }
    // A visit beyond the days made lands in the DEFAULT partition; making its day moves it there.
    let later = t + 60 * DAY;
    assert_eq!(
        app.store.import_visits(&[visit(1, later)]).await.unwrap(),
        1
    );
    let made = app.store.ensure_partitions(later, 0, 0).await.unwrap();
    if app.store.backend() == Backend::Postgres {
        assert_eq!(
            made,
            [
                day_name("presence_events", later),
                day_name("visits", later)
            ]
        );
        assert_eq!(rows_in(&app, "visits_default").await, 0);
        assert_eq!(rows_in(&app, &day_name("visits", later)).await, 1);
        assert!(
            app.store
                .ensure_partitions(later, 0, 0)
                .await
                .unwrap()
                .is_empty(),
            "made once"
        );
    } else {
        assert!(made.is_empty());
    }
    assert_eq!(app.count("visits").await, 1);
    // The same visit again is still the same visit (the unique key holds across the move).
    assert_eq!(
        app.store.import_visits(&[visit(1, later)]).await.unwrap(),
        0
    );
}

async fn retention_drops_whole_days_and_keeps_newer_rows(app: TestApp) {
    settled(&app).await;
    let location = app.location("checkpoint", COMMUNE).await;
    let t = now();
    let before = t - i64::from(app.state.rules.presence_retention_days) * DAY;
    let long_ago = before - 12 * DAY;
    app.store.ensure_partitions(long_ago, 0, 0).await.unwrap();
    // Gone: a day wholly before the cutoff, and a row just before it (the day that straddles it, or the one
    // before). Kept: a row just after the cutoff and one today.
    let times = [long_ago, before - 60, before + 60, t];
    for (i, &at) in times.iter().enumerate() {
        app.store
            .import_visits(&[visit(location, at)])
            .await
            .unwrap();
        app.store
            .record_scan(scan_at(location, at, &format!("k{i}")))
            .await
            .unwrap();
    }
    let old_day = day_name("presence_events", long_ago);
    if app.store.backend() == Backend::Postgres {
        assert!(
            app.store
                .partitions("presence_events")
                .await
                .unwrap()
                .contains(&old_day)
        );
        assert_eq!(rows_in(&app, &old_day).await, 1);
    }
    // The start-up purge may have run in the same second, with the same cutoff: count this purge's audit row.
    let audited_before = purges_audited(&app, before).await;
    let purged = app.store.purge_presence(before).await.unwrap();
    assert_eq!((purged.events, purged.visits), (2, 2), "{purged:?}");
    assert_eq!(app.count("presence_events").await, 2);
    assert_eq!(app.count("visits").await, 2);
    if app.store.backend() == Backend::Postgres {
        let events = app.store.partitions("presence_events").await.unwrap();
        let visits = app.store.partitions("visits").await.unwrap();
        assert!(!events.contains(&old_day), "{events:?}");
        assert!(
            !visits.contains(&day_name("visits", long_ago)),
            "{visits:?}"
        );
        assert!(
            events.contains(&day_name("presence_events", t)),
            "{events:?}"
        );
        assert!(events.contains(&"presence_events_default".to_owned()));
        assert_eq!(
            rows_in(&app, "scan_keys").await,
            2,
            "the keys of purged scans go too"
        );
    }
    // The purge is audited as before.
    assert_eq!(purges_audited(&app, before).await, audited_before + 1);
}

/// Dropping a day partition locks the whole presence log against scans until its transaction commits. The
/// rest of the purge (the straddling day's rows, scan keys, codes, messages) must not run inside that lock: here
/// it is held up on a row another session has locked, and a scan still goes through. PostgreSQL only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scans_go_on_while_the_purge_deletes_after_dropping_days() {
    let Some(app) = common::spawn(common::Backend::Postgres).await else {
        return;
    };
    settled(&app).await;
    let location = app.location("checkpoint", COMMUNE).await;
    let before = now() - i64::from(app.state.rules.presence_retention_days) * DAY;
    let long_ago = before - 12 * DAY;
    app.store.ensure_partitions(long_ago, 0, 0).await.unwrap();
    app.store
        .record_scan(scan_at(location, long_ago, "old"))
        .await
        .unwrap();
    // An expired one-time code that the purge deletes, locked by another session until released.
    let mut holder = sqlx::AnyConnection::connect(&app.db_url).await.unwrap();
    for sql in [
        format!(
            "INSERT INTO otp_challenges (citizen_id, code_hash, created_at, expires_at, attempts) \
             VALUES ('094090123456', 'x', {long_ago}, {long_ago}, 0)"
        ),
        "BEGIN".to_owned(),
        format!("SELECT 1 FROM otp_challenges WHERE created_at = {long_ago} FOR UPDATE"),
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
            .execute(&mut holder)
            .await
            .unwrap();
    }
    let store = app.store.clone();
    let purge = tokio::spawn(async move { store.purge_presence(before).await });
    // Wait for the purge to stand behind the held row.
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    common::wait_for_row(
        &db,
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
         AND query LIKE 'DELETE FROM otp_challenges%'",
        "the purge never reached the held row",
    )
    .await;
    let scan = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        app.store.record_scan(scan_at(location, now(), "during")),
    )
    .await;
    assert!(scan.is_ok_and(|r| r.is_ok()), "a scan waited on the purge");
    sqlx::raw_sql("ROLLBACK")
        .execute(&mut holder)
        .await
        .unwrap();
    let purged = purge.await.unwrap().unwrap();
    assert_eq!(purged.events, 1, "{purged:?}");
    assert_eq!(purged.codes, 1, "{purged:?}");
    assert!(
        !app.store
            .partitions("presence_events")
            .await
            .unwrap()
            .contains(&day_name("presence_events", long_ago))
    );
}

/// Audit rows of purges with the cutoff `before`.
async fn purges_audited(app: &TestApp, before: i64) -> i64 {
    let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'presence.purge' AND detail LIKE 'before={before} %'"
    )))
    .fetch_one(&db)
    .await
    .unwrap()
}

async fn a_scan_key_is_replayed_and_refused_across_days(app: TestApp) {
    settled(&app).await;
    let checkpoint = app.location("checkpoint", COMMUNE).await;
    let green = app.pass_of(0, false).await;
    let yesterday = (chrono::Utc::now() - chrono::Duration::hours(30)).to_rfc3339();
    let offline =
        json!({"token": green, "direction": "in", "scanned_at": yesterday, "idempotency_key": "k"});
    let url = format!("/api/v1/locations/{checkpoint}/scans");
    let res = app.post(&url, Some(&app.checkpoint), &offline).await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    // Resent the next day: the same event.
    let res = app.post(&url, Some(&app.checkpoint), &offline).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), first);
    // The same key on a scan of today (another day's partition) is a conflict, not a second event.
    let today = json!({"token": green, "direction": "in", "idempotency_key": "k"});
    let res = app.post(&url, Some(&app.checkpoint), &today).await;
    assert_eq!(res.status(), 409);
    assert_eq!(app.count("presence_events").await, 1);
    if app.store.backend() == Backend::Postgres {
        let db = sqlx::AnyPool::connect(&app.db_url).await.unwrap();
        let home: String =
            sqlx::query_scalar("SELECT CAST(tableoid::regclass AS TEXT) FROM presence_events")
                .fetch_one(&db)
                .await
                .unwrap();
        assert_eq!(home, day_name("presence_events", now() - 30 * 3600));
        assert_ne!(home, day_name("presence_events", now()));
    }
}
