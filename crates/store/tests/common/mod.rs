//! What the store's integration tests share: a fresh PostgreSQL database of their own.

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The URL of a new, empty PostgreSQL database named after the test and process, or None when
/// `KIEMDICH_TEST_PG_URL` is not set.
#[expect(clippy::unwrap_used, reason = "a test set-up stops loudly")]
pub async fn fresh_pg(name: &str) -> Option<String> {
    let Ok(base) = std::env::var("KIEMDICH_TEST_PG_URL") else {
        eprintln!("skipped on PostgreSQL: KIEMDICH_TEST_PG_URL is not set");
        return None;
    };
    let db = format!("kd_{name}_{}", std::process::id());
    let mut admin = PgConnection::connect(&base).await.unwrap();
    for sql in [
        format!("DROP DATABASE IF EXISTS {db}"),
        format!("CREATE DATABASE {db}"),
    ] {
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut admin)
            .await
            .unwrap();
    }
    let (root, _) = base.rsplit_once('/').unwrap();
    Some(format!("{root}/{db}"))
}
