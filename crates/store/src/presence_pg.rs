//! PostgreSQL's scan writer: a group of scans is one statement, data-modifying CTEs over the group sent as
//! JSON, so that the SQL text is the same for every group (prepared and planned once on the writer's
//! connection). With a row of placeholders per scan, every group size was a statement of its own: PostgreSQL
//! planned each text anew (a sixth of the writer's time went to planning), and the client bound sixteen
//! parameters a scan.

use crate::db::{Result, json_rows, now};
use crate::group::GroupCommit;
use crate::presence::{
    MAX_GROUP, NewScan, ScanRecorded, ScanWriter, StoredIds, answers, key_of, replays,
    stored_earlier,
};
use crate::{Backend, StoreError};
use kiemdich_domain::{Decision, Direction, HealthStatus};
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, Row};
use std::collections::HashMap;

/// PostgreSQL's scan writer: each group through a connection of its own.
pub(crate) fn spawn_writer(pool: AnyPool) -> ScanWriter {
    GroupCommit::spawn(MAX_GROUP, move |group| {
        let pool = pool.clone();
        async move { write_group(&pool, group).await }
    })
}

/// A scan as the statement reads it; `n` is its place in the group (in key order).
#[derive(Serialize)]
struct ScanRow<'a> {
    n: usize,
    location_id: i64,
    citizen_id: Option<&'a str>,
    pass_id: Option<&'a str>,
    direction: &'a str,
    at: i64,
    device: &'a str,
    method: &'a str,
    decision: &'a str,
    reason: &'a str,
    status: Option<&'a str>,
    travel_from: Option<&'a str>,
    travel_to: Option<&'a str>,
    idempotency_key: &'a str,
    request_hash: &'a str,
}

impl<'a> ScanRow<'a> {
    fn of(n: usize, s: &'a NewScan) -> ScanRow<'a> {
        ScanRow {
            n,
            location_id: s.location_id,
            citizen_id: s.citizen_id.as_deref(),
            pass_id: s.pass_id.as_deref(),
            direction: s.direction.as_str(),
            at: s.at,
            device: &s.device,
            method: s.method.as_str(),
            decision: s.decision.as_str(),
            reason: &s.reason,
            status: s.status.map(HealthStatus::as_str),
            travel_from: s.travel_from.as_deref(),
            travel_to: s.travel_to.as_deref(),
            idempotency_key: &s.idempotency_key,
            request_hash: &s.request_hash,
        }
    }
}

/// One statement of a group ($1 the scans, $2 the time received, $3 the longest open stay, $4 and $5 the window
/// of entries the group's exits may close: after the earliest scan less the longest stay, and not after the
/// latest scan). It claims the new
/// keys (the first sender of a key sent twice wins), inserts their events, closes the visit each admitted exit
/// ends and opens one for each admitted entry (the CTEs all see the visits as they were before the statement),
/// and returns the new events' keys and ids. PostgreSQL partitions the log by day and a unique index there
/// must hold the day, so the keys live in `scan_keys` (migration 0018). Each exit's own window lies inside
/// $4..$5; the window as parameters lets PostgreSQL leave out the visits' other day partitions before the
/// statement runs (it cannot by a time read from $1), which halves a small group's fixed cost.
const GROUP_STATEMENT: &str = "\
WITH input AS (SELECT * FROM json_to_recordset($1::json) AS x(n BIGINT, location_id BIGINT, citizen_id TEXT, \
    pass_id TEXT, direction TEXT, at BIGINT, device TEXT, method TEXT, decision TEXT, reason TEXT, status TEXT, \
    travel_from TEXT, travel_to TEXT, idempotency_key TEXT, request_hash TEXT)), \
  fresh AS (INSERT INTO scan_keys (device, idempotency_key, location_id, at, event_id) \
    SELECT device, idempotency_key, location_id, at, nextval('presence_event_ids') FROM input ORDER BY n \
    ON CONFLICT DO NOTHING RETURNING device, idempotency_key, event_id), \
  ev AS (INSERT INTO presence_events (id, location_id, citizen_id, pass_id, direction, at, device, method, \
      decision, reason, status, travel_from, travel_to, idempotency_key, request_hash, received_at) \
    SELECT f.event_id, i.location_id, i.citizen_id, i.pass_id, i.direction, i.at, i.device, i.method, \
      i.decision, i.reason, i.status, i.travel_from, i.travel_to, i.idempotency_key, i.request_hash, $2 \
    FROM fresh f JOIN (SELECT DISTINCT ON (device, idempotency_key) * FROM input \
      ORDER BY device, idempotency_key, n) i ON i.device = f.device AND i.idempotency_key = f.idempotency_key \
    RETURNING location_id, citizen_id, at, direction, decision), \
  admitted AS (SELECT location_id, at, direction, \
      CASE WHEN citizen_id ~ '^[0-9]{12}$' THEN citizen_id::BIGINT END AS citizen \
    FROM ev WHERE decision = 'admit'), \
  closed AS (UPDATE visits SET exited_at = x.at FROM admitted x WHERE x.direction = 'out' \
    AND visits.citizen = x.citizen AND visits.location_id = x.location_id \
    AND visits.entered_at > $4 AND visits.entered_at <= $5 \
    AND visits.entered_at <= x.at AND visits.entered_at > x.at - $3 \
    AND visits.entered_at = (SELECT v.entered_at FROM visits v WHERE v.citizen = x.citizen \
      AND v.location_id = x.location_id AND v.exited_at IS NULL \
      AND v.entered_at > $4 AND v.entered_at <= $5 AND v.entered_at <= x.at \
      AND v.entered_at > x.at - $3 ORDER BY v.entered_at DESC LIMIT 1)), \
  opened AS (INSERT INTO visits (location_id, citizen, entered_at, exited_at) \
    SELECT location_id, citizen, at, NULL FROM admitted WHERE direction = 'in' AND citizen IS NOT NULL \
    ON CONFLICT (citizen, entered_at, location_id) DO NOTHING) \
SELECT device, idempotency_key, event_id FROM fresh";

/// The scan writer's connection plans each statement once. The window of visits ($4, $5) is what lets
/// PostgreSQL leave out day partitions before a group runs, but it also makes a plan for each group's own
/// window look cheaper than the one plan for all, and PostgreSQL then planned every group anew (3.7 ms a plan
/// with 37 partitions, where a group of 64 runs in under 3 ms).
pub(crate) const WRITER_SETTINGS: &str = "SET plan_cache_mode = force_generic_plan";

/// Writes the group, again when PostgreSQL picked it as the victim of a deadlock with another server's group
/// (both touching the same keys or visits): the group is idempotent, so a retry stores each scan once. The
/// events of the keys stored earlier are read back once it is committed.
async fn write_group(pool: &AnyPool, group: Vec<NewScan>) -> Result<Vec<Result<ScanRecorded>>> {
    let stored = crate::db::retried("scans", || write_group_once(pool, &group)).await?;
    let replays = replays(&group, &stored);
    let earlier = stored_earlier(pool, Backend::Postgres, &replays).await?;
    Ok(answers(group, &stored, replays, &earlier))
}

/// Inserts the group, skipping keys already stored. Rows go in in key order, so that two servers' groups
/// sharing keys take their locks in one order and wait rather than deadlock (the sort is stable: of a key sent
/// twice, the first sender's row is the one stored). A group of one statement ([`statement_parts`]) is its own
/// transaction (a round trip where a transaction takes six); a group an exit splits takes a transaction.
async fn write_group_once(pool: &AnyPool, group: &[NewScan]) -> Result<StoredIds> {
    let received = now();
    let mut in_key_order: Vec<&NewScan> = group.iter().collect();
    in_key_order.sort_by(|a, b| key_of(a).cmp(&key_of(b)));
    let parts = statement_parts(&in_key_order);
    if parts.len() <= 1 {
        return insert_parts(&mut *pool.acquire().await?, group, &parts, received).await;
    }
    let mut tx = pool.begin().await?;
    let stored = insert_parts(&mut tx, group, &parts, received).await?;
    tx.commit().await?;
    Ok(stored)
}

/// Splits a group (in key order) into the statements that write it: an admitted exit is never in the statement
/// of an earlier admitted scan of the same person at the same place. The statement's CTEs all see the visits
/// as they were before it, so a second exit could not close the visit the first left open, nor an exit the
/// visit an entry opened, as SQLite's triggers do.
fn statement_parts<'a>(group: &[&'a NewScan]) -> Vec<Vec<&'a NewScan>> {
    let mut parts: Vec<Vec<&NewScan>> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for &s in group {
        // Only a registry citizen's admitted scans touch visits.
        let stay = (s.decision == Decision::Admit)
            .then(|| {
                s.citizen_id
                    .as_deref()
                    .and_then(crate::visits::citizen_number)
            })
            .flatten()
            .map(|citizen| (citizen, s.location_id));
        let clash = s.direction == Direction::Out && stay.is_some_and(|k| seen.contains(&k));
        if clash || parts.is_empty() {
            parts.push(Vec::new());
            seen.clear();
        }
        seen.extend(stay);
        if let Some(part) = parts.last_mut() {
            part.push(s);
        }
    }
    parts
}

/// Writes the statements of a group (`parts`, of `group`'s scans), one after the other, and returns the id of
/// each scan's new row, in the group's order.
async fn insert_parts(
    conn: &mut AnyConnection,
    group: &[NewScan],
    parts: &[Vec<&NewScan>],
    received: i64,
) -> Result<StoredIds> {
    // The first sender of each key: the scan whose row a statement stores.
    let mut first: HashMap<(&str, &str), usize> = HashMap::with_capacity(group.len());
    for (n, s) in group.iter().enumerate() {
        first.entry(key_of(s)).or_insert(n);
    }
    let mut ids = vec![None; group.len()];
    for part in parts {
        let rows: Vec<ScanRow> = part
            .iter()
            .enumerate()
            .map(|(n, s)| ScanRow::of(n, s))
            .collect();
        let earliest = part.iter().map(|s| s.at).min().unwrap_or(received);
        let latest = part.iter().map(|s| s.at).max().unwrap_or(received);
        let stay = crate::visits::MAX_OPEN_STAY_SECS;
        let stored = sqlx::query(GROUP_STATEMENT)
            .bind(json_rows(&rows)?)
            .bind(received)
            .bind(stay)
            .bind(earliest - stay)
            .bind(latest)
            .fetch_all(&mut *conn)
            .await?;
        for row in &stored {
            let device: String = row.try_get("device")?;
            let key: String = row.try_get("idempotency_key")?;
            let n = first.get(&(device.as_str(), key.as_str())).ok_or_else(|| {
                StoreError::Failed("the scan statement returned a key it was not given".into())
            })?;
            ids[*n] = Some(row.try_get("event_id")?);
        }
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::presence::tests::scan;

    #[test]
    fn a_group_splits_only_where_an_exit_follows_a_scan_of_the_same_person_and_place() {
        let exit = |citizen: &str, place: i64, key: &str| NewScan {
            direction: Direction::Out,
            citizen_id: Some(citizen.into()),
            ..scan(place, 0, key)
        };
        // The second exit of one person from place 1 starts a statement; so does an exit after an entry of
        // the same person there; refused scans and people outside the registry (a visitor's certificate) touch
        // no visit and split nothing.
        let group = [
            exit("094090123456", 1, "a"),
            exit("094090123457", 1, "b"),
            exit("094090123456", 2, "c"),
            scan(1, 0, "d"),
            exit("094090123456", 1, "e"),
            NewScan {
                decision: Decision::Refuse,
                ..exit("094090123456", 1, "f")
            },
            exit("094090123456", 1, "g"),
            exit("URN:UVCI:01:VN:X", 1, "h"),
            exit("URN:UVCI:01:VN:X", 1, "i"),
        ];
        let refs: Vec<&NewScan> = group.iter().collect();
        let keys = |parts: Vec<Vec<&NewScan>>| -> Vec<String> {
            parts
                .iter()
                .map(|p| p.iter().map(|s| s.idempotency_key.as_str()).collect())
                .collect()
        };
        assert_eq!(keys(statement_parts(&refs)), ["abcd", "ef", "ghi"]);
        // Entries of many people (a group as large as a group gets) stay one statement.
        let many: Vec<NewScan> = (0..MAX_GROUP * 2)
            .map(|i| scan(1, 0, &i.to_string()))
            .collect();
        let refs: Vec<&NewScan> = many.iter().collect();
        let sizes: Vec<usize> = statement_parts(&refs).iter().map(Vec::len).collect();
        assert_eq!(sizes, [MAX_GROUP * 2]);
        assert!(statement_parts(&[]).is_empty());
    }
}
