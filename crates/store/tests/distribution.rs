//! The distribution plan of docs/scale.md, checked against the migrated PostgreSQL schema: which tables a
//! distributed PostgreSQL (Citus) would shard, by which column and with which others, which are copied to every
//! node, and which stay on the coordinator. A new table must be placed; a key or foreign key that a distributed
//! engine could not keep on one shard fails here, when it is written, not when the country outgrows one server.
//! Runs when `KIEMDICH_TEST_PG_URL` is set (CI sets it).

#![expect(
    clippy::unwrap_used,
    reason = "a test stops loudly at the first value that is not what it expects"
)]

mod common;

use kiemdich_store::Store;
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};
use std::collections::BTreeMap;

/// Where a table lives on a distributed engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Sharded by `column`; tables of one `group` are co-located (their rows for one key share a node).
    Distributed {
        group: &'static str,
        column: &'static str,
    },
    /// Small and read everywhere: a copy on every node.
    Reference,
    /// Written at rates one node takes (logs, queues, the laboratory and case tables): stays on the coordinator.
    Coordinator,
}

use Placement::{Coordinator, Distributed, Reference};

const PLACES: Placement = Distributed {
    group: "places",
    column: "location_id",
};
const PEOPLE: Placement = Distributed {
    group: "people",
    column: "citizen_id",
};
const DECLARATIONS: Placement = Distributed {
    group: "declarations",
    column: "declaration_id",
};

/// The plan: every table of the schema, placed. The hot tables (written at the national peak rates of
/// docs/scale.md) are distributed.
const PLAN: &[(&str, Placement)] = &[
    ("presence_events", PLACES),
    ("visits", PLACES),
    // A scan's idempotency key, claimed on its device's shard in the scan's transaction.
    (
        "scan_keys",
        Distributed {
            group: "devices",
            column: "device",
        },
    ),
    ("residents", PEOPLE),
    ("passes", PEOPLE),
    ("doses", PEOPLE),
    ("dcc_issued", PEOPLE),
    ("health_updates", PEOPLE),
    (
        "declarations",
        Distributed {
            group: "declarations",
            column: "id",
        },
    ),
    ("declaration_people", DECLARATIONS),
    // A declaration's idempotency key, looked up and claimed on its submitter's shard in the declaration's
    // transaction.
    (
        "declaration_keys",
        Distributed {
            group: "submitters",
            column: "actor",
        },
    ),
    ("units", Reference),
    ("boundaries", Reference),
    ("unit_figures", Reference),
    ("locations", Reference),
    ("risk_decisions", Reference),
    ("risk_decision_levels", Reference),
    ("risk_decision_files", Reference),
    ("exposure_places", Reference),
    ("signing_keys", Reference),
    ("sealed_keys", Reference),
    ("dcc_dscs", Reference),
    ("dcc_trust", Reference),
    ("staff", Reference),
    ("api_tokens", Reference),
    ("capacity_checklists", Reference),
    ("proximity_exports", Reference),
    ("proximity_counts", Reference),
    ("schema_migrations", Reference),
    ("revocations", Coordinator),
    ("book_changes", Coordinator),
    ("job_leases", Coordinator),
    ("throttle_counts", Coordinator),
    ("otp_challenges", Coordinator),
    ("outbox", Coordinator),
    ("audit_log", Coordinator),
    ("cases", Coordinator),
    ("case_exposures", Coordinator),
    ("tracing_runs", Coordinator),
    ("follow_ups", Coordinator),
    ("zone_notices", Coordinator),
    ("pools", Coordinator),
    ("samples", Coordinator),
    ("results", Coordinator),
    ("proximity_codes", Coordinator),
    ("proximity_keys", Coordinator),
];

/// A fresh, migrated PostgreSQL database of its own, or None when no server is configured.
async fn migrated(name: &str) -> Option<PgConnection> {
    let url = common::fresh_pg(&format!("distribution_{name}")).await?;
    drop(Store::connect(&url).await.unwrap());
    Some(PgConnection::connect(&url).await.unwrap())
}

/// Tables (partitioned parents, not their partitions) of the public schema.
async fn tables(c: &mut PgConnection) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT c.relname::text FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace \
         AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
    )
    .fetch_all(c)
    .await
    .unwrap()
}

/// The columns of an array of attribute numbers, in order, as `a,b`.
const COLUMNS: &str = "(SELECT string_agg(a.attname, ',' ORDER BY k.i) FROM unnest({keys}) WITH ORDINALITY k(n, i) \
     JOIN pg_attribute a ON a.attrelid = {rel} AND a.attnum = k.n)";

fn columns(keys: &str, rel: &str) -> String {
    COLUMNS.replace("{keys}", keys).replace("{rel}", rel)
}

/// Foreign keys of parent tables: (table, columns, referenced table, referenced columns).
async fn foreign_keys(c: &mut PgConnection) -> Vec<(String, String, String, String)> {
    let sql = format!(
        "SELECT t.relname::text AS t, {} AS cols, f.relname::text AS f, {} AS fcols FROM pg_constraint x \
         JOIN pg_class t ON t.oid = x.conrelid JOIN pg_class f ON f.oid = x.confrelid \
         WHERE x.contype = 'f' AND t.relnamespace = 'public'::regnamespace AND NOT t.relispartition \
         AND x.conparentid = 0",
        columns("x.conkey", "x.conrelid"),
        columns("x.confkey", "x.confrelid"),
    );
    sqlx::query(AssertSqlSafe(sql))
        .fetch_all(c)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("t"), r.get("cols"), r.get("f"), r.get("fcols")))
        .collect()
}

/// Unique indexes (primary keys included) of parent tables: (table, index, columns).
async fn unique_keys(c: &mut PgConnection) -> Vec<(String, String, String)> {
    let sql = format!(
        "SELECT t.relname::text AS t, i.relname::text AS i, {} AS cols FROM pg_index x \
         JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indisunique AND t.relnamespace = 'public'::regnamespace AND NOT t.relispartition",
        columns("x.indkey::int2[]", "x.indrelid"),
    );
    sqlx::query(AssertSqlSafe(sql))
        .fetch_all(c)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("t"), r.get("i"), r.get("cols")))
        .collect()
}

fn plan() -> BTreeMap<&'static str, Placement> {
    PLAN.iter().copied().collect()
}

/// Whether a foreign key from `from` (columns `cols`) to `to` (columns `fcols`) stays on one node.
fn key_stays_local(from: Placement, cols: &str, to: Placement, fcols: &str) -> bool {
    let position = |list: &str, column: &str| list.split(',').position(|c| c == column);
    match (from, to) {
        (_, Reference) => true,
        (Reference, _) => false,
        (Coordinator, Coordinator) => true,
        (
            Distributed { group, column },
            Distributed {
                group: fgroup,
                column: fcolumn,
            },
        ) => {
            group == fgroup
                && position(cols, column).is_some()
                && position(cols, column) == position(fcols, fcolumn)
        }
        _ => false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_table_is_placed_and_nothing_in_the_plan_is_stale() {
    let Some(mut c) = migrated("placed").await else {
        return;
    };
    let found = tables(&mut c).await;
    let plan = plan();
    let unplaced: Vec<&String> = found
        .iter()
        .filter(|t| !plan.contains_key(t.as_str()))
        .collect();
    assert!(
        unplaced.is_empty(),
        "tables missing from the distribution plan (docs/scale.md): {unplaced:?}"
    );
    let stale: Vec<&&str> = plan
        .keys()
        .filter(|t| !found.iter().any(|f| f == *t))
        .collect();
    assert!(
        stale.is_empty(),
        "planned tables that do not exist: {stale:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_foreign_key_crosses_shards() {
    let Some(mut c) = migrated("fkeys").await else {
        return;
    };
    let plan = plan();
    let keys = foreign_keys(&mut c).await;
    assert!(
        keys.iter().any(|(t, ..)| t == "declaration_people"),
        "the catalogue query finds foreign keys"
    );
    let crossing: Vec<String> = keys
        .iter()
        .filter(|(t, cols, f, fcols)| {
            !key_stays_local(plan[t.as_str()], cols, plan[f.as_str()], fcols)
        })
        .map(|(t, cols, f, fcols)| format!("{t}({cols}) → {f}({fcols})"))
        .collect();
    assert!(
        crossing.is_empty(),
        "foreign keys across shards: {crossing:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_of_distributed_tables_carry_their_distribution_column() {
    let Some(mut c) = migrated("ukeys").await else {
        return;
    };
    let plan = plan();
    let keys = unique_keys(&mut c).await;
    let mut missing = Vec::new();
    for (table, index, cols) in &keys {
        if let Distributed { column, .. } = plan[table.as_str()]
            && !cols.split(',').any(|c| c == column)
        {
            missing.push(format!("{table}.{index} ({cols}) lacks {column}"));
        }
    }
    assert!(
        missing.is_empty(),
        "unique keys without their distribution column: {missing:?}"
    );
    let nullable: Vec<String> = sqlx::query(
        "SELECT c.relname::text AS t, a.attname::text AS col FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid \
         WHERE c.relnamespace = 'public'::regnamespace AND NOT a.attnotnull AND a.attnum > 0",
    )
    .fetch_all(&mut c)
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get::<String, _>("t"), r.get::<String, _>("col")))
    .filter(|(t, col)| {
        plan.get(t.as_str())
            .is_some_and(|p| matches!(p, Distributed { column, .. } if column == col))
    })
    .map(|(t, col)| format!("{t}.{col}"))
    .collect();
    assert!(
        nullable.is_empty(),
        "distribution columns must be NOT NULL: {nullable:?}"
    );
}

#[test]
fn a_key_between_groups_or_off_the_distribution_column_is_caught() {
    assert!(key_stays_local(
        DECLARATIONS,
        "declaration_id",
        Distributed {
            group: "declarations",
            column: "id"
        },
        "id"
    ));
    assert!(!key_stays_local(
        PEOPLE,
        "declaration_id",
        DECLARATIONS,
        "id"
    ));
    assert!(!key_stays_local(PEOPLE, "case_id", PEOPLE, "id"));
    assert!(key_stays_local(PLACES, "location_id", Reference, "id"));
    assert!(!key_stays_local(
        Coordinator,
        "citizen_id",
        PEOPLE,
        "citizen_id"
    ));
    assert!(!key_stays_local(Reference, "id", Coordinator, "id"));
}
