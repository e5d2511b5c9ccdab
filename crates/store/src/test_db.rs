//! What the store's unit tests share: a fresh PostgreSQL database of their own, and the stores to run a test
//! on (SQLite always, PostgreSQL when `KIEMDICH_TEST_PG_URL` names one).

use crate::Store;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};

/// A fresh database beside the one `KIEMDICH_TEST_PG_URL` names, named after `name`, or None (skipped)
/// without it.
pub(crate) async fn fresh_pg(name: &str) -> Option<String> {
    let Ok(url) = std::env::var("KIEMDICH_TEST_PG_URL") else {
        eprintln!("skipped on PostgreSQL: KIEMDICH_TEST_PG_URL is not set");
        return None;
    };
    sqlx::any::install_default_drivers();
    let mut b = [0u8; 4];
    getrandom::fill(&mut b).unwrap();
    let db = format!("kd_{name}_{}_{}", std::process::id(), u32::from_le_bytes(b));
    let mut admin = AnyConnection::connect(&url).await.unwrap();
    admin
        .execute(AssertSqlSafe(format!("CREATE DATABASE {db}")))
        .await
        .unwrap();
    Some(format!("{}/{db}", url.rsplit_once('/').unwrap().0))
}

/// A new SQLite store in a directory of its own, and a PostgreSQL one when the tests have a server.
pub(crate) async fn both_stores(name: &str) -> Vec<Store> {
    let dir = std::env::temp_dir().join(format!("kiemdich_{name}_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut stores = vec![Store::open_data_dir(&dir).await.unwrap()];
    if let Some(url) = fresh_pg(name).await {
        stores.push(Store::connect(&url).await.unwrap());
    }
    stores
}
