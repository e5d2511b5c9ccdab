//! Locations and the presence log: every scan is one row, written by group commit and acknowledged only once
//! durable; a scan resent with the same idempotency key from the same device is a replay, never a new row.

use crate::access::insert_audit;
use crate::db::{Backend, Result, Store, StoreError, now};
use crate::group::GroupCommit;
use crate::scan_log::{PersonIndexer, ScanLog};
use kiemdich_domain::{
    Decision, Direction, HealthStatus, LocationKind, ScanMethod, VaccinationRequirement,
};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Location {
    pub id: i64,
    pub name: String,
    pub kind: LocationKind,
    pub commune_code: String,
    pub address: String,
    pub lat: f64,
    pub lon: f64,
    pub operator_org: String,
    pub dwell_minutes: i64,
    /// Admitted health statuses.
    pub admits: Vec<HealthStatus>,
    /// The vaccination a person whose colour is admitted must also have; none when absent.
    pub vaccination: Option<VaccinationRequirement>,
    /// Whether an EU Digital COVID Certificate (HC1) is accepted here in place of a pass, for a visitor with no
    /// registry record (a foreign traveller).
    pub accepts_dcc: bool,
    /// The account that registered it (`staff:<id>`); venue owners see their own venues only.
    pub owner: String,
}

/// A location to register, its admission policy already resolved from the request and the kind's rule.
#[derive(Debug, Clone)]
pub struct NewPlace<'a> {
    pub name: &'a str,
    pub kind: LocationKind,
    pub commune_code: &'a str,
    pub address: &'a str,
    /// Latitude and longitude (WGS84 degrees).
    pub coords: (f64, f64),
    pub operator_org: &'a str,
    pub dwell_minutes: i64,
    pub admits: &'a [HealthStatus],
    pub vaccination: Option<&'a VaccinationRequirement>,
    pub accepts_dcc: bool,
}

/// A scan to store. `request_hash` fingerprints what was sent, to tell a replay from a reused key.
#[derive(Debug, Clone)]
pub struct NewScan {
    pub location_id: i64,
    pub citizen_id: Option<String>,
    pub pass_id: Option<String>,
    pub direction: Direction,
    pub at: i64,
    pub device: String,
    pub method: ScanMethod,
    pub decision: Decision,
    pub reason: String,
    pub status: Option<HealthStatus>,
    /// The declared journey of someone scanned at a checkpoint.
    pub travel_from: Option<String>,
    pub travel_to: Option<String>,
    pub idempotency_key: String,
    pub request_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PresenceEvent {
    pub id: i64,
    pub location_id: i64,
    pub citizen_id: Option<String>,
    pub pass_id: Option<String>,
    pub direction: Direction,
    pub at: i64,
    pub device: String,
    pub method: ScanMethod,
    pub decision: Decision,
    pub reason: String,
    pub status: Option<HealthStatus>,
    pub travel_from: Option<String>,
    pub travel_to: Option<String>,
    #[serde(skip)]
    pub request_hash: String,
}

/// Which end of a declared journey a movement report looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    Arrivals,
    Departures,
}

/// The stored event for a scan, and whether it was already there (a replay).
#[derive(Debug, Clone)]
pub struct ScanRecorded {
    pub event: PresenceEvent,
    pub replay: bool,
}

fn location_from_row(r: &AnyRow) -> Result<Location> {
    let id: i64 = r.try_get("id")?;
    let bad = |what: &str, e: String| StoreError::Corrupt(format!("location {id}: {what}: {e}"));
    Ok(Location {
        id,
        name: r.try_get("name")?,
        kind: LocationKind::parse(&r.try_get::<String, _>("kind")?).map_err(|e| bad("kind", e))?,
        commune_code: r.try_get("commune_code")?,
        address: r.try_get("address")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        operator_org: r.try_get("operator_org")?,
        dwell_minutes: r.try_get("dwell_minutes")?,
        admits: r
            .try_get::<String, _>("admits")?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| HealthStatus::parse(s).map_err(|e| bad("admits", e)))
            .collect::<Result<_>>()?,
        vaccination: r
            .try_get::<Option<String>, _>("vaccination_requirement")?
            .map(|s| {
                serde_json::from_str(&s).map_err(|e| bad("vaccination_requirement", e.to_string()))
            })
            .transpose()?,
        accepts_dcc: r.try_get::<i64, _>("accepts_dcc")? != 0,
        owner: r.try_get("owner")?,
    })
}

fn event_from_row(r: &AnyRow) -> Result<PresenceEvent> {
    let id: i64 = r.try_get("id")?;
    let bad =
        |what: &str, e: String| StoreError::Corrupt(format!("presence event {id}: {what}: {e}"));
    let text = |col: &str| -> Result<String> { Ok(r.try_get::<String, _>(col)?) };
    Ok(PresenceEvent {
        id,
        location_id: r.try_get("location_id")?,
        citizen_id: r.try_get("citizen_id")?,
        pass_id: r.try_get("pass_id")?,
        direction: Direction::parse(&text("direction")?).map_err(|e| bad("direction", e))?,
        at: r.try_get("at")?,
        device: r.try_get("device")?,
        method: ScanMethod::parse(&text("method")?).map_err(|e| bad("method", e))?,
        decision: Decision::parse(&text("decision")?).map_err(|e| bad("decision", e))?,
        reason: r.try_get("reason")?,
        status: r
            .try_get::<Option<String>, _>("status")?
            .map(|s| HealthStatus::parse(&s).map_err(|e| bad("status", e)))
            .transpose()?,
        travel_from: r.try_get("travel_from")?,
        travel_to: r.try_get("travel_to")?,
        request_hash: r.try_get("request_hash")?,
    })
}

const EVENT_COLS: &str = "id, location_id, citizen_id, pass_id, direction, at, device, method, decision, reason, status, travel_from, travel_to, request_hash";
/// The most scans written in one transaction.
pub(crate) const MAX_GROUP: usize = 1024;

pub(crate) type ScanWriter = GroupCommit<NewScan, ScanRecorded>;

/// SQLite's scan writer: each group through `log` on the writer's thread; the events of replayed keys are read
/// back through `read` once the group is committed; the person index catches up after the answers.
pub(crate) fn spawn_sqlite_writer(
    (mut log, mut indexer): (ScanLog, PersonIndexer),
    read: AnyPool,
) -> ScanWriter {
    GroupCommit::spawn_then(
        MAX_GROUP,
        move |group: Vec<NewScan>| {
            let stored = log.insert(&group, now());
            let read = read.clone();
            async move {
                let stored = stored?;
                let replays = replays(&group, &stored);
                let earlier = stored_earlier(&read, Backend::Sqlite, &replays).await?;
                Ok(answers(group, &stored, replays, &earlier))
            }
        },
        move || indexer.catch_up(),
    )
}

/// The columns a scan stores, in the order the scan log binds them.
pub(crate) const SCAN_COLS: &str = "location_id, citizen_id, pass_id, direction, at, device, method, decision, reason, status, travel_from, travel_to, idempotency_key, request_hash, received_at";

/// The event a scan stored under `id`: its values moved, not copied (the writer's thread makes a thousand a
/// group).
fn into_event(s: NewScan, id: i64) -> PresenceEvent {
    PresenceEvent {
        id,
        location_id: s.location_id,
        citizen_id: s.citizen_id,
        pass_id: s.pass_id,
        direction: s.direction,
        at: s.at,
        device: s.device,
        method: s.method,
        decision: s.decision,
        reason: s.reason,
        status: s.status,
        travel_from: s.travel_from,
        travel_to: s.travel_to,
        request_hash: s.request_hash,
    }
}

/// Reads the event a (device, idempotency key) stored, by the key's own table on PostgreSQL (see
/// `presence_pg.rs`).
fn stored_scan_sql(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => format!(
            "SELECT {EVENT_COLS} FROM presence_events WHERE device = $1 AND idempotency_key = $2"
        ),
        Backend::Postgres => {
            let cols: Vec<String> = EVENT_COLS.split(", ").map(|c| format!("e.{c}")).collect();
            format!(
                "SELECT {} FROM scan_keys k JOIN presence_events e ON e.location_id = k.location_id AND e.at = k.at \
                 AND e.id = k.event_id WHERE k.device = $1 AND k.idempotency_key = $2",
                cols.join(", ")
            )
        }
    }
}

/// A scan's (device, idempotency key).
pub(crate) type ScanKey = (String, String);

/// A scan's (device, idempotency key), borrowed.
pub(crate) fn key_of(s: &NewScan) -> (&str, &str) {
    (&s.device, &s.idempotency_key)
}

/// What a group's insert stored: for each scan of the group, in order, the id of the row it stored, or `None`
/// when its key was stored before it (by an earlier group, or by an earlier scan of the same group).
pub(crate) type StoredIds = Vec<Option<i64>>;

/// Where a replayed scan's event comes from.
pub(crate) enum Replay {
    /// The scan at this place in the group stored the same key.
    InGroup(usize),
    /// An earlier group did: the event is read back by its key.
    Earlier(ScanKey),
}

/// The replays of a group (the scans that stored nothing), by place in the group. Most groups have none, and
/// cost nothing here.
pub(crate) fn replays(group: &[NewScan], stored: &[Option<i64>]) -> Vec<(usize, Replay)> {
    if stored.iter().all(Option::is_some) {
        return Vec::new();
    }
    let stored_here: HashMap<(&str, &str), usize> = group
        .iter()
        .zip(stored)
        .enumerate()
        .filter(|(_, (_, id))| id.is_some())
        .map(|(n, (s, _))| (key_of(s), n))
        .collect();
    group
        .iter()
        .zip(stored)
        .enumerate()
        .filter(|(_, (_, id))| id.is_none())
        .map(|(n, (s, _))| {
            let from = stored_here.get(&key_of(s)).map_or_else(
                || Replay::Earlier((s.device.clone(), s.idempotency_key.clone())),
                |&first| Replay::InGroup(first),
            );
            (n, from)
        })
        .collect()
}

/// The events earlier groups stored for the keys `replays` read back.
pub(crate) async fn stored_earlier(
    pool: &AnyPool,
    backend: Backend,
    replays: &[(usize, Replay)],
) -> Result<HashMap<ScanKey, PresenceEvent>> {
    let mut out = HashMap::new();
    let keys = replays.iter().filter_map(|(_, r)| match r {
        Replay::Earlier(key) => Some(key),
        Replay::InGroup(_) => None,
    });
    // Most groups replay nothing, and need no connection.
    let mut conn = None;
    for key in keys {
        if out.contains_key(key) {
            continue;
        }
        let conn = match &mut conn {
            Some(c) => c,
            None => conn.insert(pool.acquire().await?),
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(stored_scan_sql(backend)))
            .bind(key.0.as_str())
            .bind(key.1.as_str())
            .fetch_one(&mut **conn)
            .await?;
        out.insert(key.clone(), event_from_row(&row)?);
    }
    Ok(out)
}

/// One answer per scan of the group, in order: a stored scan's event is made of the scan itself (moved); a
/// replay gets the event its key stored, from this group (a key sent twice in one group is a replay for its
/// second sender, as it would be in two groups) or read back from an earlier one.
pub(crate) fn answers(
    group: Vec<NewScan>,
    stored: &[Option<i64>],
    replays: Vec<(usize, Replay)>,
    earlier: &HashMap<ScanKey, PresenceEvent>,
) -> Vec<Result<ScanRecorded>> {
    let mut events: Vec<Option<PresenceEvent>> = group
        .into_iter()
        .zip(stored)
        .map(|(s, id)| id.map(|id| into_event(s, id)))
        .collect();
    for (n, from) in replays {
        let event = match from {
            Replay::InGroup(first) => events.get(first).cloned().flatten(),
            Replay::Earlier(key) => earlier.get(&key).cloned(),
        };
        if let Some(slot) = events.get_mut(n) {
            *slot = event;
        }
    }
    events
        .into_iter()
        .zip(stored)
        .map(|(event, id)| {
            let event = event
                .ok_or_else(|| StoreError::Failed("a scan was neither stored nor found".into()))?;
            Ok(ScanRecorded {
                event,
                replay: id.is_none(),
            })
        })
        .collect()
}

impl Store {
    pub async fn create_location(&self, actor: &str, p: &NewPlace<'_>) -> Result<i64> {
        let vaccination = p
            .vaccination
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO locations (name, kind, commune_code, address, lat, lon, operator_org, dwell_minutes, admits, vaccination_requirement, accepts_dcc, created_at, owner) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(p.name)
        .bind(p.kind.as_str())
        .bind(p.commune_code)
        .bind(p.address)
        .bind(p.coords.0)
        .bind(p.coords.1)
        .bind(p.operator_org)
        .bind(p.dwell_minutes)
        .bind(p.admits.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(","))
        .bind(vaccination)
        .bind(i64::from(p.accepts_dcc))
        .bind(now())
        .bind(actor)
        .fetch_one(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "location.create",
            &format!("location:{id}"),
            p.name,
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn location(&self, id: i64) -> Result<Option<Location>> {
        let row = sqlx::query("SELECT * FROM locations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(location_from_row).transpose()
    }

    /// Locations in the given communes, by name.
    pub async fn locations_in(&self, communes: &[String]) -> Result<Vec<Location>> {
        let rows = self
            .fetch_in(
                "SELECT * FROM locations WHERE commune_code IN ({in}) ORDER BY name, id",
                communes,
            )
            .await?;
        rows.iter().map(location_from_row).collect()
    }

    /// Venues registered by one account.
    pub async fn locations_owned_by(&self, owner: &str) -> Result<Vec<Location>> {
        let rows = sqlx::query("SELECT * FROM locations WHERE owner = $1 ORDER BY name, id")
            .bind(owner.to_owned())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(location_from_row).collect()
    }

    /// One person's own visits since `from`, newest first (what a resident sees of themselves).
    pub async fn visits_of(
        &self,
        citizen_id: &str,
        from: i64,
        limit: i64,
    ) -> Result<Vec<PresenceEvent>> {
        // One snapshot for SQLite's runs of the person index and the reads through them.
        let mut tx = self.read.begin().await?;
        let statements = match self.backend() {
            Backend::Sqlite => {
                let (runs, upto) = crate::person_runs::current(&mut tx).await?;
                crate::person_runs::person_events_sql(EVENT_COLS, &runs, upto)
            }
            Backend::Postgres => vec![format!(
                "SELECT {EVENT_COLS} FROM presence_events WHERE citizen_id = $1 AND at >= $2 ORDER BY at DESC, id LIMIT $3"
            )],
        };
        let mut events = Vec::new();
        for sql in statements {
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(citizen_id.to_owned())
                .bind(from)
                .bind(limit)
                .fetch_all(&mut *tx)
                .await?;
            for r in &rows {
                events.push(event_from_row(r)?);
            }
        }
        tx.commit().await?;
        events.sort_unstable_by_key(|e| (std::cmp::Reverse(e.at), e.id));
        events.truncate(usize::try_from(limit).unwrap_or(0));
        Ok(events)
    }

    /// Admitted entries per hour at a location in [from, to): (hour start, count). Counts only, never people.
    pub async fn hourly_entries(
        &self,
        location_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<(i64, i64)>> {
        let rows = sqlx::query(
            "SELECT at - at % 3600 AS hour, COUNT(*) AS n FROM presence_events WHERE location_id = $1 AND at >= $2 AND at < $3 \
             AND direction = 'in' AND decision = 'admit' GROUP BY at - at % 3600 ORDER BY hour",
        )
        .bind(location_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("hour")?, r.try_get("n")?)))
            .collect()
    }

    /// Stores a scan in the next group commit and returns the stored event once durable.
    pub async fn record_scan(&self, scan: NewScan) -> Result<ScanRecorded> {
        self.scans.submit(scan).await
    }

    /// Stores a batch of scans (an offline scanner's queue) in one group commit and returns, once durable,
    /// one result per scan in order. A key sent twice in the batch is a replay for its second scan, as if the
    /// two had been sent one after the other.
    pub async fn record_scans(&self, scans: Vec<NewScan>) -> Result<Vec<Result<ScanRecorded>>> {
        self.scans.submit_many(scans).await
    }

    /// Events at a location in [from, to), oldest first.
    pub async fn presence(
        &self,
        location_id: i64,
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<PresenceEvent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLS} FROM presence_events WHERE location_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT $4"
        )))
        .bind(location_id)
        .bind(from)
        .bind(to)
        .bind(limit)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(event_from_row).collect()
    }

    /// Checkpoint scans in [from, to) of people whose declared journey ends (`column` = travel_to) or starts
    /// (travel_from) in one of `units`, newest first.
    pub async fn movements(
        &self,
        column: Journey,
        units: &[String],
        from: i64,
        to: i64,
        limit: i64,
    ) -> Result<Vec<PresenceEvent>> {
        let column = match column {
            Journey::Arrivals => "travel_to",
            Journey::Departures => "travel_from",
        };
        let mut out = Vec::new();
        for chunk in units.chunks(500) {
            let p = crate::db::list_placeholders(self.backend(), chunk.len() + 3);
            let sql = format!(
                "SELECT {EVENT_COLS} FROM presence_events WHERE {column} IN ({}) AND at >= {} AND at < {} ORDER BY at DESC, id LIMIT {}",
                p[..chunk.len()].join(","),
                p[chunk.len()],
                p[chunk.len() + 1],
                p[chunk.len() + 2]
            );
            let q = chunk
                .iter()
                .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, u| {
                    q.bind(u.as_str())
                });
            let rows = q
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(&self.read)
                .await?;
            out.extend(
                rows.iter()
                    .map(event_from_row)
                    .collect::<Result<Vec<_>>>()?,
            );
        }
        Ok(out)
    }

    /// Deletes what is kept only as long as the presence log, from before `before`, in one transaction:
    /// presence events, visits, tracing results, zoning marks, outbox messages, one-time codes and declarations'
    /// idempotency keys. On PostgreSQL the days of events and visits wholly before `before` go first, by
    /// dropping their partitions in a short transaction of their own ([`Store::drop_partitions_before`]); then
    /// only the day that straddles the cutoff (and the DEFAULT partition) has rows deleted, and the scan keys
    /// of the events removed go too.
    pub async fn purge_presence(&self, before: i64) -> Result<Purged> {
        let dropped = match self.backend() {
            Backend::Postgres => self.drop_partitions_before(before).await?,
            Backend::Sqlite => crate::partitions::Dropped::default(),
        };
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            sqlx::query("DELETE FROM scan_keys WHERE at < $1")
                .bind(before)
                .execute(&mut *tx)
                .await?;
        }
        let mut deleted = [0u64; 7];
        for (n, sql) in deleted.iter_mut().zip([
            "DELETE FROM presence_events WHERE at < $1",
            "DELETE FROM visits WHERE entered_at < $1",
            "DELETE FROM tracing_runs WHERE created_at < $1",
            "DELETE FROM zone_notices WHERE at < $1",
            "DELETE FROM outbox WHERE created_at < $1",
            "DELETE FROM otp_challenges WHERE created_at < $1",
            "DELETE FROM declaration_keys WHERE created_at < $1",
        ]) {
            *n = sqlx::query(sql)
                .bind(before)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        if self.backend() == Backend::Sqlite {
            crate::person_runs::purge(&mut tx, before).await?;
        }
        let [
            events,
            visits,
            traces,
            zone_marks,
            messages,
            codes,
            declaration_keys,
        ] = deleted;
        let purged = Purged {
            events: events + dropped.events,
            visits: visits + dropped.visits,
            traces,
            zone_marks,
            messages,
            codes,
            declaration_keys,
        };
        insert_audit(
            &mut tx,
            "system",
            "presence.purge",
            "presence",
            &format!("before={before} {purged:?}"),
        )
        .await?;
        tx.commit().await?;
        Ok(purged)
    }
}

/// What one retention purge deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    pub visits: u64,
    pub traces: u64,
    pub zone_marks: u64,
    pub messages: u64,
    pub codes: u64,
    /// Declarations' idempotency keys, with the answers kept for their replays.
    pub declaration_keys: u64,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A scan by device `test` with `key` as its idempotency key and request hash.
    pub(crate) fn scan(location_id: i64, at: i64, key: &str) -> NewScan {
        NewScan {
            location_id,
            citizen_id: Some("094090123456".into()),
            pass_id: None,
            direction: Direction::In,
            at,
            device: "test".into(),
            method: ScanMethod::Pass,
            decision: Decision::Admit,
            reason: "ok".into(),
            status: Some(HealthStatus::Green),
            travel_from: None,
            travel_to: None,
            idempotency_key: key.into(),
            request_hash: key.into(),
        }
    }

    #[test]
    fn a_stored_scan_is_answered_with_its_own_event_and_a_replay_with_the_one_its_key_stored() {
        let group = vec![
            scan(1, 10, "a"),
            scan(2, 11, "b"),
            scan(1, 12, "a"),
            scan(1, 13, "old"),
            scan(1, 14, "lost"),
        ];
        let stored = [Some(7), Some(8), None, None, None];
        let replays = replays(&group, &stored);
        let earlier = HashMap::from([(
            ("test".to_owned(), "old".to_owned()),
            into_event(scan(3, 5, "old"), 3),
        )]);
        let got: Vec<Option<(i64, i64, i64, bool)>> = answers(group, &stored, replays, &earlier)
            .into_iter()
            .map(|r| {
                r.ok()
                    .map(|r| (r.event.id, r.event.location_id, r.event.at, r.replay))
            })
            .collect();
        assert_eq!(
            got,
            [
                Some((7, 1, 10, false)),
                Some((8, 2, 11, false)),
                // The second sender of a key in the group: the first's event.
                Some((7, 1, 10, true)),
                // A key an earlier group stored: that group's event, not this scan's values.
                Some((3, 3, 5, true)),
                // Neither stored nor found: an error for this scan alone.
                None,
            ]
        );
    }
}
