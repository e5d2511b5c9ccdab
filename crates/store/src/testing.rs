//! Samples, pools and results (*mẫu xét nghiệm, gộp mẫu, kết quả*). A result is written with all its effects
//! in one transaction: an individual PCR positive opens an F0 case through [`Store::open_cases_in`] (passes
//! revoked, notices queued) exactly once — the results' unique keys make a second application a no-op; a
//! positive rapid antigen test does what the rules say (2021: the live pass revoked, a PCR ordered); a negative
//! pool makes every member negative, a positive pool orders every member sampled again and tells their
//! communes, an invalid pool is pooled again for a re-test; an F1's negative on the release day ends the
//! quarantine when the rules say so; and the person gets an SMS with the result. Batches use multi-row
//! statements, so a laboratory's file of tens of thousands of results is written in about a second.

use crate::access::{insert_audit, insert_audits};
use crate::cases::NewCase;
use crate::db::{
    AnyQuery, Backend, ROWS_PER_STATEMENT, Result, Store, StoreError, bind_f64, fetch_in_on,
    insert_rows, list_placeholders, now, packed_columns, packed_int, sqlite_inserted_ids,
    unpack_rows,
};
use crate::declaring::revoke_live_passes;
use chrono::NaiveDate;
use kiemdich_domain::catalogue::{Lang, Message as _, Sms, fill};
use kiemdich_domain::testing::{LabelKind, PoolMember, TargetFacts, TargetRef, label};
use kiemdich_domain::{
    CaseClass, CaseSource, CaseState, CitizenId, Ct, DetectedIn, HealthStatus, LocalClock,
    OutboxChannel, ResultSource, Rules, SampleReason, SampleStatus, TestResult, TestType, UnitCode,
};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// A sample to order: for a person, why, which test; collected already when `collected_at` is set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSample {
    pub citizen_id: CitizenId,
    /// The person's registry commune: jurisdiction checks read it.
    pub commune_code: String,
    pub reason: SampleReason,
    pub test_type: TestType,
    /// The day it is to be taken (an F1's test day).
    pub due_on: Option<NaiveDate>,
    pub collected_at: Option<i64>,
    pub collected_where: Option<String>,
    /// The sample this one follows (a re-sample, the PCR after a positive rapid test).
    pub follows: Option<i64>,
}

impl NewSample {
    /// The PCR sample of a confirmed F1 on one of the rules' test days.
    pub(crate) fn f1_test(c: &NewCase, day: NaiveDate) -> NewSample {
        NewSample {
            citizen_id: c.citizen_id,
            commune_code: c.commune_code.clone(),
            reason: SampleReason::F1,
            test_type: TestType::Pcr,
            due_on: Some(day),
            collected_at: None,
            collected_where: None,
            follows: None,
        }
    }

    fn again(of: &Facts, reason: SampleReason, test_type: TestType) -> NewSample {
        NewSample {
            citizen_id: of.citizen_id,
            commune_code: of.commune_code.clone(),
            reason,
            test_type,
            due_on: None,
            collected_at: None,
            collected_where: None,
            follows: Some(of.id),
        }
    }
}

/// A stored result, as read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRecord {
    pub id: i64,
    pub result: TestResult,
    pub tested_at: kiemdich_domain::Instant,
    pub lab: String,
    pub ct: Option<Ct>,
    pub source: ResultSource,
    pub case_id: Option<i64>,
    pub entered_by: String,
}

/// A stored sample with its result, if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleRecord {
    pub id: i64,
    pub label: String,
    pub citizen_id: CitizenId,
    pub commune_code: UnitCode,
    pub reason: SampleReason,
    pub test_type: TestType,
    pub status: SampleStatus,
    pub ordered_by: String,
    pub ordered_at: kiemdich_domain::Instant,
    pub due_on: Option<NaiveDate>,
    pub collected_at: Option<kiemdich_domain::Instant>,
    pub collected_where: Option<String>,
    pub collected_by: Option<String>,
    pub pool_id: Option<i64>,
    pub pool_label: Option<String>,
    pub result: Option<ResultRecord>,
}

/// A pool and its members.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PoolRecord {
    pub id: i64,
    pub label: String,
    pub test_type: TestType,
    pub members: Vec<SampleRecord>,
    pub result: Option<ResultRecord>,
}

/// What a result names, once looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum Target {
    Sample(i64),
    Pool(i64),
}

/// A looked-up target: what the checks need, the communes of the people in it (for jurisdiction), and
/// the result already stored for it.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTarget {
    pub target: Target,
    pub facts: TargetFacts,
    pub communes: Vec<String>,
    pub stored: Option<ResultRecord>,
}

/// A result ready to be written: its target looked up and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedResult {
    pub target: Target,
    pub result: TestResult,
    pub tested_at: i64,
    pub lab: String,
    pub ct: Option<Ct>,
    pub source: ResultSource,
}

impl CheckedResult {
    /// Whether this is the result `stored` says (who entered it and how are not compared).
    pub fn same_as(&self, stored: &ResultRecord) -> bool {
        self.result == stored.result
            && self.tested_at == stored.tested_at.0
            && self.lab == stored.lab
            && self.ct.map(Ct::value) == stored.ct.map(Ct::value)
    }
}

/// What recording one result did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Effects {
    pub result_id: i64,
    /// The F0 case the result opened, or the person's open F0 case it joined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case_id: Option<i64>,
    /// Samples ordered again: every member of a positive pool, or the person of an invalid test.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resample_ids: Vec<i64>,
    /// The new pool of the same members after an invalid pool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retest_pool_id: Option<i64>,
    /// The PCR ordered after a positive rapid antigen test.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pcr_ordered_id: Option<i64>,
    /// Member results made from a negative pool.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub member_result_ids: Vec<i64>,
    /// F1 quarantines this negative ended.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub quarantine_ended_case_ids: Vec<i64>,
    /// Live passes revoked.
    pub revoked_passes: usize,
}

/// What became of one result of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultOutcome {
    /// New, written with its effects.
    Recorded(Effects),
    /// The same result was already stored (or came earlier in the batch): nothing changed.
    Unchanged {
        result_id: i64,
        case_id: Option<i64>,
    },
    /// Another result is stored for that sample or pool: it is kept.
    Differs(Box<ResultRecord>),
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("sample {what}: {e}"))
}

fn instant(r: &AnyRow, col: &str) -> Result<Option<kiemdich_domain::Instant>> {
    Ok(r.try_get::<Option<i64>, _>(col)?
        .map(kiemdich_domain::Instant))
}

fn result_from_row(r: &AnyRow, id_col: &str) -> Result<Option<ResultRecord>> {
    let Some(id) = r.try_get::<Option<i64>, _>(id_col)? else {
        return Ok(None);
    };
    let text = |c: &str| r.try_get::<String, _>(c);
    Ok(Some(ResultRecord {
        id,
        result: TestResult::parse(&text("result")?).map_err(|e| corrupt("result", e))?,
        tested_at: kiemdich_domain::Instant(r.try_get("tested_at")?),
        lab: text("lab")?,
        ct: r.try_get::<Option<f64>, _>("ct")?.map(Ct::stored),
        source: ResultSource::parse(&text("result_source")?)
            .map_err(|e| corrupt("result source", e))?,
        case_id: r.try_get("case_id")?,
        entered_by: text("entered_by")?,
    }))
}

const SAMPLE_SELECT: &str = "SELECT s.id, s.label, s.citizen_id, s.commune_code, s.reason, s.test_type, s.status, \
     s.ordered_by, s.ordered_at, s.due_on, s.collected_at, s.collected_where, s.collected_by, s.pool_id, \
     p.label AS pool_label, r.id AS result_id, r.result, r.tested_at, r.lab, r.ct, r.source AS result_source, \
     r.case_id, r.entered_by FROM samples s LEFT JOIN pools p ON p.id = s.pool_id \
     LEFT JOIN results r ON r.sample_id = s.id";

fn sample_from_row(r: &AnyRow) -> Result<SampleRecord> {
    let id: i64 = r.try_get("id")?;
    let bad = |what: &str, e: String| corrupt(&format!("{id} {what}"), e);
    let text = |c: &str| r.try_get::<String, _>(c);
    Ok(SampleRecord {
        id,
        label: r
            .try_get::<Option<String>, _>("label")?
            .unwrap_or_else(|| label(LabelKind::Sample, id)),
        citizen_id: CitizenId::parse(&text("citizen_id")?)
            .map_err(|e| bad("citizen_id", e.to_string()))?,
        commune_code: UnitCode::parse(&text("commune_code")?).map_err(|e| bad("commune", e))?,
        reason: SampleReason::parse(&text("reason")?).map_err(|e| bad("reason", e))?,
        test_type: TestType::parse(&text("test_type")?).map_err(|e| bad("test_type", e))?,
        status: SampleStatus::parse(&text("status")?).map_err(|e| bad("status", e))?,
        ordered_by: text("ordered_by")?,
        ordered_at: kiemdich_domain::Instant(r.try_get("ordered_at")?),
        due_on: r
            .try_get::<Option<String>, _>("due_on")?
            .map(|d| {
                d.parse()
                    .map_err(|e: chrono::ParseError| bad("due_on", e.to_string()))
            })
            .transpose()?,
        collected_at: instant(r, "collected_at")?,
        collected_where: r.try_get("collected_where")?,
        collected_by: r.try_get("collected_by")?,
        pool_id: r.try_get("pool_id")?,
        pool_label: r.try_get("pool_label")?,
        result: result_from_row(r, "result_id")?,
    })
}

/// Orders `samples` inside a transaction, one statement each (a few at a time: an F1's test days, the members
/// of a pool), and writes each label once its id is known; their ids, in order.
/// The audit row of a sample ordered.
pub(crate) async fn audit_order(
    conn: &mut AnyConnection,
    actor: &str,
    s: &NewSample,
    id: i64,
) -> Result<()> {
    insert_audit(
        conn,
        actor,
        "sample.order",
        &format!("citizen:{}", s.citizen_id),
        &format!("sample {id} {} {}", s.test_type.as_str(), s.reason.as_str()),
    )
    .await
}

pub(crate) async fn insert_samples(
    conn: &mut AnyConnection,
    samples: &[NewSample],
    actor: &str,
    at: i64,
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(samples.len());
    for s in samples {
        let status = if s.collected_at.is_some() {
            SampleStatus::Collected
        } else {
            SampleStatus::Ordered
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO samples (citizen_id, commune_code, reason, test_type, status, ordered_by, ordered_at, due_on, \
             collected_at, collected_where, collected_by, follows_sample_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
        )
        .bind(s.citizen_id.as_str().to_owned())
        .bind(s.commune_code.clone())
        .bind(s.reason.as_str())
        .bind(s.test_type.as_str())
        .bind(status.as_str())
        .bind(actor.to_owned())
        .bind(at)
        .bind(s.due_on.map(|d| d.to_string()))
        .bind(s.collected_at)
        .bind(s.collected_where.clone())
        .bind(s.collected_at.map(|_| actor.to_owned()))
        .bind(s.follows)
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query("UPDATE samples SET label = $1 WHERE id = $2")
            .bind(label(LabelKind::Sample, id))
            .bind(id)
            .execute(&mut *conn)
            .await?;
        ids.push(id);
    }
    Ok(ids)
}

/// Runs `sql` with `{in}` replaced by each chunk of `ids` (integers we made: inlined) on `conn`.
async fn fetch_ids(conn: &mut AnyConnection, sql: &str, ids: &[i64]) -> Result<Vec<AnyRow>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(1000) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = sql.replace("{in}", &list.join(","));
        out.extend(
            sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&mut *conn)
                .await?,
        );
    }
    Ok(out)
}

async fn execute_ids(conn: &mut AnyConnection, sql: &str, ids: &[i64]) -> Result<u64> {
    let mut n = 0;
    for chunk in ids.chunks(1000) {
        let list: Vec<String> = chunk.iter().map(i64::to_string).collect();
        let sql = sql.replace("{in}", &list.join(","));
        n += sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await?
            .rows_affected();
    }
    Ok(n)
}

/// What the effects need of a sample: whose it is, the test, when it was taken, the phone to tell.
#[derive(Debug, Clone)]
struct Facts {
    id: i64,
    label: String,
    citizen_id: CitizenId,
    commune_code: String,
    test_type: TestType,
    collected_at: Option<i64>,
    pool_id: Option<i64>,
    phone: Option<String>,
}

const FACTS_SELECT: &str = "SELECT s.id, s.label, s.citizen_id, s.commune_code, s.test_type, s.collected_at, \
     s.pool_id, res.phone FROM samples s LEFT JOIN residents res ON res.citizen_id = s.citizen_id";

fn facts_from_row(r: &AnyRow) -> Result<Facts> {
    let id: i64 = r.try_get("id")?;
    Ok(Facts {
        id,
        label: r
            .try_get::<Option<String>, _>("label")?
            .unwrap_or_else(|| label(LabelKind::Sample, id)),
        citizen_id: CitizenId::parse(&r.try_get::<String, _>("citizen_id")?)
            .map_err(|e| corrupt("citizen_id", e))?,
        commune_code: r.try_get("commune_code")?,
        test_type: TestType::parse(&r.try_get::<String, _>("test_type")?)
            .map_err(|e| corrupt("test_type", e))?,
        collected_at: r.try_get("collected_at")?,
        pool_id: r.try_get("pool_id")?,
        phone: r
            .try_get::<Option<String>, _>("phone")?
            .filter(|p| !p.is_empty()),
    })
}

/// Writes the results of `unique` (one per target) whose target has none yet; the ids of those written.
async fn insert_new_results<'q>(
    conn: &mut AnyConnection,
    backend: Backend,
    unique: &'q [&'q CheckedResult],
    actor: &'q str,
    at: i64,
) -> Result<HashMap<Target, i64>> {
    let into =
        "results (sample_id, pool_id, result, tested_at, lab, ct, entered_by, entered_at, source)";
    let bind = |q: AnyQuery<'q>, r: &'q &'q CheckedResult| {
        let (sample, pool) = match r.target {
            Target::Sample(id) => (Some(id), None),
            Target::Pool(id) => (None, Some(id)),
        };
        let q = q
            .bind(sample)
            .bind(pool)
            .bind(r.result.as_str())
            .bind(r.tested_at)
            .bind(r.lab.clone());
        bind_f64(q, r.ct.map(Ct::value))
            .bind(actor.to_owned())
            .bind(at)
            .bind(r.source.as_str())
    };
    let mut inserted: HashMap<Target, i64> = HashMap::with_capacity(unique.len());
    let mut returned: Vec<AnyRow> = Vec::new();
    match backend {
        Backend::Postgres => {
            let suffix = "ON CONFLICT DO NOTHING RETURNING id, sample_id, pool_id";
            returned = insert_rows(conn, backend, into, 9, suffix, unique, &bind).await?;
        }
        // A statement that wrote every row gave them consecutive ids; after one that skipped some, the rows it
        // wrote are read back by id.
        Backend::Sqlite => {
            for chunk in unique.chunks(ROWS_PER_STATEMENT) {
                insert_rows(
                    conn,
                    backend,
                    into,
                    9,
                    "ON CONFLICT DO NOTHING",
                    chunk,
                    &bind,
                )
                .await?;
                let ids = sqlite_inserted_ids(conn).await?;
                if ids.clone().count() == chunk.len() {
                    inserted.extend(chunk.iter().map(|r| r.target).zip(ids));
                } else if !ids.is_empty() {
                    returned.extend(
                        sqlx::query(
                            "SELECT id, sample_id, pool_id FROM results WHERE id >= $1 AND id <= $2",
                        )
                        .bind(*ids.start())
                        .bind(*ids.end())
                        .fetch_all(&mut *conn)
                        .await?,
                    );
                }
            }
        }
    }
    for r in &returned {
        let id: i64 = r.try_get("id")?;
        match (
            r.try_get::<Option<i64>, _>("sample_id")?,
            r.try_get::<Option<i64>, _>("pool_id")?,
        ) {
            (Some(s), _) => inserted.insert(Target::Sample(s), id),
            (None, Some(p)) => inserted.insert(Target::Pool(p), id),
            (None, None) => return Err(corrupt("result", "names neither sample nor pool")),
        };
    }
    Ok(inserted)
}

/// The columns of [`FACTS_SELECT`], packed.
const FACTS_COLUMNS: [&str; 8] = [
    "s.id",
    "s.label",
    "s.citizen_id",
    "s.commune_code",
    "s.test_type",
    "s.collected_at",
    "s.pool_id",
    "res.phone",
];

/// The facts of `ids`, by sample: [`FACTS_SELECT`] read packed (see [`packed_columns`]), typed as
/// [`facts_from_row`] types them.
async fn facts_of(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[i64],
) -> Result<HashMap<i64, Facts>> {
    let sql = format!(
        "SELECT {} AS packed FROM samples s LEFT JOIN residents res ON res.citizen_id = s.citizen_id \
         WHERE s.id IN ({{in}})",
        packed_columns(backend, &FACTS_COLUMNS)
    );
    let mut out = HashMap::with_capacity(ids.len());
    for r in fetch_ids(conn, &sql, ids).await? {
        let Some(packed) = r.try_get::<Option<String>, _>("packed")? else {
            continue;
        };
        for row in unpack_rows(&packed, FACTS_COLUMNS.len())? {
            let f = facts_from_fields(&row)?;
            out.insert(f.id, f);
        }
    }
    Ok(out)
}

fn facts_from_fields(row: &[&str]) -> Result<Facts> {
    let [
        id,
        sample_label,
        citizen,
        commune,
        test_type,
        collected,
        pool,
        phone,
    ] = row[..]
    else {
        return Err(corrupt("facts", format!("{row:?}")));
    };
    let id = packed_int(id)?.ok_or_else(|| corrupt("id", "missing"))?;
    Ok(Facts {
        id,
        label: if sample_label.is_empty() {
            label(LabelKind::Sample, id)
        } else {
            sample_label.to_owned()
        },
        citizen_id: CitizenId::parse(citizen).map_err(|e| corrupt("citizen_id", e))?,
        commune_code: commune.to_owned(),
        test_type: TestType::parse(test_type).map_err(|e| corrupt("test_type", e))?,
        collected_at: packed_int(collected)?,
        pool_id: packed_int(pool)?,
        phone: (!phone.is_empty()).then(|| phone.to_owned()),
    })
}

/// One person's result as its effects see it.
struct Individual<'a> {
    facts: &'a Facts,
    result: TestResult,
    tested_at: i64,
    lab: &'a str,
    /// The index of the batch line it comes from.
    line: usize,
}

/// A message to queue, a row of `outbox`.
struct Out {
    channel: OutboxChannel,
    recipient: String,
    body: String,
    unit: String,
}

/// What [`Store::resolve_targets`] reads of a sample without a result, packed.
const UNRESULTED_COLUMNS: [&str; 6] = [
    "s.id",
    "s.test_type",
    "s.status",
    "s.collected_at",
    "s.commune_code",
    "s.pool_id",
];

fn unresulted_from_fields(row: &[&str]) -> Result<ResolvedTarget> {
    let [id, test_type, status, collected, commune, pool] = row[..] else {
        return Err(corrupt("lookup", format!("{row:?}")));
    };
    let id = packed_int(id)?.ok_or_else(|| corrupt("id", "missing"))?;
    let status = SampleStatus::parse(status).map_err(|e| corrupt("status", e))?;
    Ok(ResolvedTarget {
        target: Target::Sample(id),
        facts: TargetFacts {
            test_type: TestType::parse(test_type).map_err(|e| corrupt("test_type", e))?,
            collected_at: packed_int(collected)?,
            resulted: status == SampleStatus::Tested,
            pooled: packed_int(pool)?.is_some(),
        },
        communes: vec![commune.to_owned()],
        stored: None,
    })
}

impl Store {
    /// Orders samples (and records their collection when given) in one transaction, audited; their ids and
    /// labels, in order.
    pub async fn order_samples(
        &self,
        samples: &[NewSample],
        actor: &str,
    ) -> Result<Vec<(i64, String)>> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let ids = insert_samples(&mut tx, samples, actor, at).await?;
        for (id, s) in ids.iter().zip(samples) {
            audit_order(&mut tx, actor, s, *id).await?;
        }
        tx.commit().await?;
        Ok(ids
            .into_iter()
            .map(|id| (id, label(LabelKind::Sample, id)))
            .collect())
    }

    /// Samples by id (those that exist), with their results.
    pub async fn samples(&self, ids: &[i64]) -> Result<Vec<SampleRecord>> {
        let mut conn = self.read.acquire().await?;
        let sql = format!("{SAMPLE_SELECT} WHERE s.id IN ({{in}}) ORDER BY s.id");
        fetch_ids(&mut conn, &sql, ids)
            .await?
            .iter()
            .map(sample_from_row)
            .collect()
    }

    /// A person's samples, newest first, optionally of one status.
    pub async fn samples_of(
        &self,
        citizen: &CitizenId,
        status: Option<SampleStatus>,
    ) -> Result<Vec<SampleRecord>> {
        let sql = match status {
            None => format!("{SAMPLE_SELECT} WHERE s.citizen_id = $1 ORDER BY s.id DESC"),
            Some(_) => format!(
                "{SAMPLE_SELECT} WHERE s.citizen_id = $1 AND s.status = $2 ORDER BY s.id DESC"
            ),
        };
        let q = sqlx::query(AssertSqlSafe(sql)).bind(citizen.as_str().to_owned());
        match status {
            None => q,
            Some(s) => q.bind(s.as_str()),
        }
        .fetch_all(&self.read)
        .await?
        .iter()
        .map(sample_from_row)
        .collect()
    }

    /// Samples of people of `communes` in one status, oldest first, at most `limit` (a laboratory's or a
    /// station's work list).
    pub async fn samples_in(
        &self,
        communes: &[String],
        status: SampleStatus,
        limit: usize,
    ) -> Result<Vec<SampleRecord>> {
        let mut out = Vec::new();
        for chunk in communes.chunks(500) {
            let p = list_placeholders(self.backend(), chunk.len() + 1);
            let sql = format!(
                "{SAMPLE_SELECT} WHERE s.status = {} AND s.commune_code IN ({}) ORDER BY s.id LIMIT {limit}",
                p[0],
                p[1..].join(",")
            );
            let q = sqlx::query(AssertSqlSafe(sql)).bind(status.as_str());
            let rows = chunk
                .iter()
                .fold(q, |q, c| q.bind(c.as_str()))
                .fetch_all(&self.read)
                .await?;
            for r in &rows {
                out.push(sample_from_row(r)?);
            }
        }
        out.sort_by_key(|s| s.id);
        out.truncate(limit);
        Ok(out)
    }

    /// A pool with its members and result.
    pub async fn pool(&self, id: i64) -> Result<Option<PoolRecord>> {
        let Some(r) = sqlx::query(
            "SELECT p.id, p.label, p.test_type, r.id AS result_id, r.result, r.tested_at, r.lab, r.ct, \
             r.source AS result_source, r.case_id, r.entered_by FROM pools p LEFT JOIN results r ON r.pool_id = p.id \
             WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?
        else {
            return Ok(None);
        };
        let sql = format!("{SAMPLE_SELECT} WHERE s.pool_id = $1 ORDER BY s.id");
        let members = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(sample_from_row)
            .collect::<Result<_>>()?;
        Ok(Some(PoolRecord {
            id,
            label: r
                .try_get::<Option<String>, _>("label")?
                .unwrap_or_else(|| label(LabelKind::Pool, id)),
            test_type: TestType::parse(&r.try_get::<String, _>("test_type")?)
                .map_err(|e| corrupt("pool test_type", e))?,
            members,
            result: result_from_row(&r, "result_id")?,
        }))
    }

    /// Pools `sample_ids` (checked by the caller with [`kiemdich_domain::testing::check_pool`]); refused as a
    /// conflict, with nothing written, when a member was pooled or resulted meanwhile. The pool's id and label.
    pub async fn create_pool(&self, sample_ids: &[i64], actor: &str) -> Result<(i64, String)> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let (id, label) = new_pool(&mut tx, sample_ids, actor, at, false).await?;
        insert_audit(
            &mut tx,
            actor,
            "pool.create",
            &format!("pool:{id}"),
            &format!("{} samples", sample_ids.len()),
        )
        .await?;
        tx.commit().await?;
        Ok((id, label))
    }

    /// The pool members' facts for [`kiemdich_domain::testing::check_pool`], with the communes of their
    /// people; samples that do not exist are absent.
    pub async fn pool_candidates(&self, ids: &[i64]) -> Result<HashMap<i64, (PoolMember, String)>> {
        let mut conn = self.read.acquire().await?;
        let rows = fetch_ids(
            &mut conn,
            "SELECT id, test_type, status, commune_code FROM samples WHERE id IN ({in})",
            ids,
        )
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                Ok((
                    id,
                    (
                        PoolMember {
                            id,
                            test_type: TestType::parse(&r.try_get::<String, _>("test_type")?)
                                .map_err(|e| corrupt("test_type", e))?,
                            status: SampleStatus::parse(&r.try_get::<String, _>("status")?)
                                .map_err(|e| corrupt("status", e))?,
                        },
                        r.try_get("commune_code")?,
                    ),
                ))
            })
            .collect()
    }

    /// Looks up what result lines name: a label names its sample or pool; a bare id the sample of that id, or
    /// the pool when no sample has it (both existing: ambiguous, absent from the answer with the reason).
    pub async fn resolve_targets(
        &self,
        refs: &[TargetRef],
    ) -> Result<HashMap<TargetRef, std::result::Result<ResolvedTarget, String>>> {
        let mut sample_ids: Vec<i64> = Vec::new();
        let mut pool_ids: Vec<i64> = Vec::new();
        for r in refs {
            match *r {
                TargetRef::Label(LabelKind::Sample, id) => sample_ids.push(id),
                TargetRef::Label(LabelKind::Pool, id) => pool_ids.push(id),
                TargetRef::Id(id) => {
                    sample_ids.push(id);
                    pool_ids.push(id);
                }
            }
        }
        for v in [&mut sample_ids, &mut pool_ids] {
            v.sort_unstable();
            v.dedup();
        }
        let mut conn = self.read.acquire().await?;
        let mut samples: HashMap<i64, ResolvedTarget> = HashMap::new();
        // Samples without a result (nearly all of a laboratory's file) are read packed; the others a row each.
        let unresulted = format!(
            "SELECT {} AS packed FROM samples s WHERE s.id IN ({{in}}) \
             AND NOT EXISTS (SELECT 1 FROM results r WHERE r.sample_id = s.id)",
            packed_columns(self.backend(), &UNRESULTED_COLUMNS)
        );
        for r in fetch_ids(&mut conn, &unresulted, &sample_ids).await? {
            let Some(packed) = r.try_get::<Option<String>, _>("packed")? else {
                continue;
            };
            for row in unpack_rows(&packed, UNRESULTED_COLUMNS.len())? {
                let t = unresulted_from_fields(&row)?;
                if let Target::Sample(id) = t.target {
                    samples.insert(id, t);
                }
            }
        }
        let sql = "SELECT s.id, s.test_type, s.status, s.collected_at, s.commune_code, s.pool_id, r.id AS result_id, \
             r.result, r.tested_at, r.lab, r.ct, r.source AS result_source, r.case_id, r.entered_by \
             FROM samples s JOIN results r ON r.sample_id = s.id WHERE s.id IN ({in})";
        for r in fetch_ids(&mut conn, sql, &sample_ids).await? {
            let id: i64 = r.try_get("id")?;
            let status = SampleStatus::parse(&r.try_get::<String, _>("status")?)
                .map_err(|e| corrupt("status", e))?;
            let stored = result_from_row(&r, "result_id")?;
            samples.insert(
                id,
                ResolvedTarget {
                    target: Target::Sample(id),
                    facts: TargetFacts {
                        test_type: TestType::parse(&r.try_get::<String, _>("test_type")?)
                            .map_err(|e| corrupt("test_type", e))?,
                        collected_at: r.try_get("collected_at")?,
                        resulted: stored.is_some() || status == SampleStatus::Tested,
                        pooled: r.try_get::<Option<i64>, _>("pool_id")?.is_some(),
                    },
                    communes: vec![r.try_get("commune_code")?],
                    stored,
                },
            );
        }
        let mut pools: HashMap<i64, ResolvedTarget> = HashMap::new();
        let sql = "SELECT p.id, p.test_type, r.id AS result_id, r.result, r.tested_at, r.lab, r.ct, \
             r.source AS result_source, r.case_id, r.entered_by FROM pools p LEFT JOIN results r ON r.pool_id = p.id \
             WHERE p.id IN ({in})";
        for r in fetch_ids(&mut conn, sql, &pool_ids).await? {
            let id: i64 = r.try_get("id")?;
            let stored = result_from_row(&r, "result_id")?;
            pools.insert(
                id,
                ResolvedTarget {
                    target: Target::Pool(id),
                    facts: TargetFacts {
                        test_type: TestType::parse(&r.try_get::<String, _>("test_type")?)
                            .map_err(|e| corrupt("pool test_type", e))?,
                        collected_at: None,
                        resulted: stored.is_some(),
                        pooled: false,
                    },
                    communes: Vec::new(),
                    stored,
                },
            );
        }
        let found_pools: Vec<i64> = pools.keys().copied().collect();
        for r in fetch_ids(
            &mut conn,
            "SELECT pool_id, collected_at, commune_code FROM samples WHERE pool_id IN ({in})",
            &found_pools,
        )
        .await?
        {
            let pool: i64 = r.try_get("pool_id")?;
            if let Some(p) = pools.get_mut(&pool) {
                let c: Option<i64> = r.try_get("collected_at")?;
                p.facts.collected_at = p.facts.collected_at.max(c);
                p.communes.push(r.try_get("commune_code")?);
            }
        }
        Ok(refs
            .iter()
            .map(|r| {
                let found = match *r {
                    TargetRef::Label(LabelKind::Sample, id) => samples
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| format!("no sample {}", label(LabelKind::Sample, id))),
                    TargetRef::Label(LabelKind::Pool, id) => pools
                        .get(&id)
                        .cloned()
                        .ok_or_else(|| format!("no pool {}", label(LabelKind::Pool, id))),
                    TargetRef::Id(id) => match (samples.get(&id), pools.get(&id)) {
                        (Some(_), Some(_)) => Err(format!(
                            "{id} is both a sample's and a pool's id; use the label"
                        )),
                        (Some(s), None) => Ok(s.clone()),
                        (None, Some(p)) => Ok(p.clone()),
                        (None, None) => Err(format!("no sample or pool {id}")),
                    },
                };
                (*r, found)
            })
            .collect())
    }

    /// Records `results` with all their effects in one transaction (see the module's note), one outcome per
    /// result in order. A result whose sample or pool already has one is `Unchanged` when it is the same,
    /// else `Differs` (the stored one is kept, nothing of this one is written); a repeat inside the batch is
    /// compared with its first occurrence.
    pub async fn record_results(
        &self,
        results: &[CheckedResult],
        rules: &Rules,
        actor: &str,
    ) -> Result<Vec<ResultOutcome>> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let out = self
            .record_results_in(&mut tx, results, rules, actor, at)
            .await?;
        tx.commit().await?;
        self.touch_book();
        Ok(out)
    }

    async fn record_results_in(
        &self,
        tx: &mut AnyConnection,
        results: &[CheckedResult],
        rules: &Rules,
        actor: &str,
        at: i64,
    ) -> Result<Vec<ResultOutcome>> {
        let backend = self.backend();
        let mut first: HashMap<Target, usize> = HashMap::with_capacity(results.len());
        let mut unique: Vec<&CheckedResult> = Vec::with_capacity(results.len());
        for (i, r) in results.iter().enumerate() {
            if let std::collections::hash_map::Entry::Vacant(e) = first.entry(r.target) {
                e.insert(i);
                unique.push(r);
            }
        }
        let inserted = insert_new_results(&mut *tx, backend, &unique, actor, at).await?;
        // The results already stored for the targets that were not inserted.
        let stale_samples: Vec<i64> = unique
            .iter()
            .filter_map(|r| match r.target {
                Target::Sample(id) if !inserted.contains_key(&r.target) => Some(id),
                _ => None,
            })
            .collect();
        let stale_pools: Vec<i64> = unique
            .iter()
            .filter_map(|r| match r.target {
                Target::Pool(id) if !inserted.contains_key(&r.target) => Some(id),
                _ => None,
            })
            .collect();
        let mut stored: HashMap<Target, ResultRecord> = HashMap::new();
        let cols = "id AS result_id, sample_id, pool_id, result, tested_at, lab, ct, source AS result_source, case_id, entered_by";
        for (ids, col) in [(&stale_samples, "sample_id"), (&stale_pools, "pool_id")] {
            let sql = format!("SELECT {cols} FROM results WHERE {col} IN ({{in}})");
            for r in fetch_ids(&mut *tx, &sql, ids).await? {
                let target = match r.try_get::<Option<i64>, _>("sample_id")? {
                    Some(s) => Target::Sample(s),
                    None => Target::Pool(r.try_get("pool_id")?),
                };
                if let Some(rec) = result_from_row(&r, "result_id")? {
                    stored.insert(target, rec);
                }
            }
        }

        // The people behind the new results: the samples themselves, and the members of pools.
        let new_samples: Vec<i64> = inserted
            .keys()
            .filter_map(|t| match t {
                Target::Sample(id) => Some(*id),
                Target::Pool(_) => None,
            })
            .collect();
        let new_pools: Vec<i64> = inserted
            .keys()
            .filter_map(|t| match t {
                Target::Pool(id) => Some(*id),
                Target::Sample(_) => None,
            })
            .collect();
        let facts = facts_of(&mut *tx, backend, &new_samples).await?;
        let mut members: HashMap<i64, Vec<Facts>> = HashMap::new();
        for r in fetch_ids(
            &mut *tx,
            &format!("{FACTS_SELECT} WHERE s.pool_id IN ({{in}}) ORDER BY s.id"),
            &new_pools,
        )
        .await?
        {
            let f = facts_from_row(&r)?;
            members
                .entry(f.pool_id.unwrap_or_default())
                .or_default()
                .push(f);
        }

        let mut effects: Vec<Effects> = vec![Effects::default(); results.len()];
        let mut individuals: Vec<Individual<'_>> = Vec::new();
        let mut orders: Vec<(usize, NewSample)> = Vec::new();
        let mut outbox: Vec<Out> = Vec::new();
        let mut audits: Vec<(String, String)> = Vec::new();
        let mut tested: Vec<i64> = Vec::new();
        let mut derived: Vec<(i64, i64, &CheckedResult, usize, &Facts)> = Vec::new();
        let clock = rules.clock();
        for (i, r) in results.iter().enumerate() {
            if first.get(&r.target) != Some(&i) {
                continue;
            }
            let Some(&result_id) = inserted.get(&r.target) else {
                continue;
            };
            effects[i].result_id = result_id;
            match r.target {
                Target::Sample(id) => {
                    let f = facts.get(&id).ok_or_else(|| {
                        StoreError::Invalid(format!("no sample {}", label(LabelKind::Sample, id)))
                    })?;
                    tested.push(id);
                    audits.push((
                        format!("citizen:{}", f.citizen_id),
                        format!("sample {id} {} ({})", r.result.as_str(), r.source.as_str()),
                    ));
                    individuals.push(Individual {
                        facts: f,
                        result: r.result,
                        tested_at: r.tested_at,
                        lab: &r.lab,
                        line: i,
                    });
                }
                Target::Pool(pool) => {
                    let of = members.get(&pool).map(Vec::as_slice).unwrap_or_default();
                    audits.push((
                        format!("pool:{pool}"),
                        format!(
                            "{} members {} ({})",
                            of.len(),
                            r.result.as_str(),
                            r.source.as_str()
                        ),
                    ));
                    match r.result {
                        TestResult::Negative => {
                            for f in of {
                                derived.push((f.id, result_id, r, i, f));
                            }
                        }
                        TestResult::Positive => {
                            tested.extend(of.iter().map(|f| f.id));
                            for f in of {
                                orders.push((
                                    i,
                                    NewSample::again(f, SampleReason::Resample, TestType::Pcr),
                                ));
                                if let Some(phone) = &f.phone {
                                    outbox.push(Out {
                                        channel: OutboxChannel::Sms,
                                        recipient: phone.clone(),
                                        body: Sms::ResampleNeeded.vi().to_owned(),
                                        unit: f.commune_code.clone(),
                                    });
                                }
                            }
                            outbox.extend(pool_notices(pool, r.result, of));
                        }
                        TestResult::Invalid => {
                            let ids: Vec<i64> = of.iter().map(|f| f.id).collect();
                            if !ids.is_empty() {
                                let (again, _) = new_pool(&mut *tx, &ids, actor, at, true).await?;
                                effects[i].retest_pool_id = Some(again);
                            }
                        }
                    }
                }
            }
        }
        // A negative pool: each member gets the pool's result as its own.
        let member_rows = insert_rows(
            &mut *tx,
            backend,
            "results (sample_id, pool_id, result, tested_at, lab, ct, entered_by, entered_at, source, from_result_id)",
            10,
            "ON CONFLICT DO NOTHING RETURNING id, sample_id",
            &derived,
            |q, (sample, from, r, _, _)| {
                let q = q
                    .bind(Some(*sample))
                    .bind(None::<i64>)
                    .bind(r.result.as_str())
                    .bind(r.tested_at)
                    .bind(r.lab.clone());
                bind_f64(q, r.ct.map(Ct::value))
                    .bind(actor.to_owned())
                    .bind(at)
                    .bind(ResultSource::Pool.as_str())
                    .bind(Some(*from))
            },
        )
        .await?;
        let member_ids: HashMap<i64, i64> = member_rows
            .iter()
            .map(|r| {
                Ok((
                    r.try_get::<i64, _>("sample_id")?,
                    r.try_get::<i64, _>("id")?,
                ))
            })
            .collect::<Result<_>>()?;
        for (sample, _, r, line, f) in &derived {
            if let Some(id) = member_ids.get(sample) {
                effects[*line].member_result_ids.push(*id);
                tested.push(*sample);
                individuals.push(Individual {
                    facts: f,
                    result: r.result,
                    tested_at: r.tested_at,
                    lab: &r.lab,
                    line: *line,
                });
            }
        }
        execute_ids(
            &mut *tx,
            "UPDATE samples SET status = 'tested' WHERE id IN ({in})",
            &tested,
        )
        .await?;

        // Each person's result: an SMS, and what the result means.
        let sample_day = |ind: &Individual<'_>| {
            rules
                .tracing
                .local_date(ind.facts.collected_at.unwrap_or(ind.tested_at))
        };
        let mut positives: Vec<&Individual<'_>> = Vec::new();
        let mut negatives: Vec<&Individual<'_>> = Vec::new();
        let mut antigen: Vec<&Individual<'_>> = Vec::new();
        let antigen_rule = &rules.testing.rapid_antigen_positive;
        for ind in &individuals {
            if let Some(phone) = &ind.facts.phone {
                let collected = LocalClock::date(sample_day(ind));
                outbox.push(Out {
                    channel: OutboxChannel::Sms,
                    recipient: phone.clone(),
                    body: fill(
                        Sms::ResultReady.vi(),
                        &[
                            ("test", ind.facts.test_type.name(Lang::Vi)),
                            ("collected", &collected),
                            ("result", ind.result.name(Lang::Vi)),
                            ("lab", ind.lab),
                            ("tested", &clock.time(ind.tested_at)),
                        ],
                    ),
                    unit: ind.facts.commune_code.clone(),
                });
            }
            match (ind.result, ind.facts.test_type) {
                (TestResult::Positive, TestType::Pcr) => positives.push(ind),
                (TestResult::Positive, TestType::RapidAntigen) if antigen_rule.opens_case => {
                    positives.push(ind);
                }
                (TestResult::Positive, TestType::RapidAntigen) => antigen.push(ind),
                (TestResult::Negative, TestType::Pcr) => negatives.push(ind),
                (TestResult::Negative, TestType::RapidAntigen) => {}
                (TestResult::Invalid, t) => orders.push((
                    ind.line,
                    NewSample::again(ind.facts, SampleReason::Resample, t),
                )),
            }
        }

        // A positive rapid antigen test: the colour of the rules at once (live passes revoked), a PCR ordered.
        if !antigen.is_empty() {
            let reason = format!("result:rapid_antigen:{}", antigen_rule.status.as_str());
            for ind in &antigen {
                if antigen_rule.status > HealthStatus::Green {
                    let revoked = revoke_live_passes(
                        &mut *tx,
                        backend,
                        &[ind.facts.citizen_id.as_str()],
                        &reason,
                        at,
                    )
                    .await?;
                    effects[ind.line].revoked_passes += revoked.len();
                }
                if antigen_rule.order_pcr {
                    orders.push((
                        ind.line,
                        NewSample::again(ind.facts, SampleReason::Suspected, TestType::Pcr),
                    ));
                    if let Some(phone) = &ind.facts.phone {
                        outbox.push(Out {
                            channel: OutboxChannel::Sms,
                            recipient: phone.clone(),
                            body: Sms::PcrOrdered.vi().to_owned(),
                            unit: ind.facts.commune_code.clone(),
                        });
                    }
                }
            }
        }

        // A positive: an F0 case, once per person; an open F0 case is joined, another open case (an F1 in
        // quarantine, a suspected case) gives way to it.
        if !positives.is_empty() {
            let ids: Vec<String> = positives
                .iter()
                .map(|p| p.facts.citizen_id.as_str().to_owned())
                .collect();
            let open = active_cases_on(&mut *tx, backend, &ids).await?;
            let mut cases: Vec<NewCase> = Vec::new();
            let mut case_of: HashMap<String, Option<i64>> = HashMap::new();
            let mut ended: Vec<i64> = Vec::new();
            for p in &positives {
                let who = p.facts.citizen_id.as_str().to_owned();
                if case_of.contains_key(&who) {
                    continue;
                }
                let detected_in = match open.get(&who) {
                    Some((id, CaseClass::F0)) => {
                        case_of.insert(who, Some(*id));
                        continue;
                    }
                    Some((id, class)) => {
                        ended.push(*id);
                        if *class == CaseClass::F1 {
                            DetectedIn::Quarantine
                        } else {
                            DetectedIn::Community
                        }
                    }
                    None => DetectedIn::Community,
                };
                let day = sample_day(p);
                cases.push(NewCase {
                    citizen_id: p.facts.citizen_id,
                    commune_code: p.facts.commune_code.clone(),
                    phone: p.facts.phone.clone(),
                    class: CaseClass::F0,
                    state: CaseState::IsolatingHome,
                    onset_date: None,
                    sample_date: Some(day),
                    isolated_date: None,
                    source: CaseSource::TestResult,
                    via: None,
                    exposures: Vec::new(),
                    vaccinated: false,
                    quarantine_until: None,
                    rule_version: rules.version.clone(),
                    detected_in,
                    counted_on: day,
                    test_days: Vec::new(),
                });
                case_of.insert(who, None);
            }
            execute_ids(
                &mut *tx,
                "UPDATE cases SET active = 0, state = 'released' WHERE id IN ({in})",
                &ended,
            )
            .await?;
            let opened = self.open_cases_in(&mut *tx, &cases, actor, at).await?;
            for o in &opened {
                case_of.insert(o.citizen_id.clone(), Some(o.case_id));
            }
            let revoked: HashMap<&str, usize> = opened
                .iter()
                .map(|o| (o.citizen_id.as_str(), o.revoked_passes.len()))
                .collect();
            let mut told: HashSet<&str> = HashSet::new();
            let mut links: Vec<(i64, i64)> = Vec::new();
            for p in &positives {
                let who = p.facts.citizen_id.as_str();
                let case_id = case_of.get(who).copied().flatten();
                let e = &mut effects[p.line];
                e.case_id = case_id;
                if told.insert(who) {
                    e.revoked_passes += revoked.get(who).copied().unwrap_or(0);
                }
                // Positives are individual results (a positive pool gives its members no result).
                if let Some(case_id) = case_id {
                    links.push((e.result_id, case_id));
                }
            }
            link_cases(&mut *tx, &links).await?;
        }

        // An F1's negative on the release day ends the quarantine when the rules say so.
        if rules.testing.release_day_negative_ends_quarantine && !negatives.is_empty() {
            let ids: Vec<String> = negatives
                .iter()
                .map(|n| n.facts.citizen_id.as_str().to_owned())
                .collect();
            let quarantined = quarantines_on(&mut *tx, backend, &ids).await?;
            let mut done: HashSet<i64> = HashSet::new();
            for n in &negatives {
                let Some((case_id, until)) = quarantined.get(n.facts.citizen_id.as_str()) else {
                    continue;
                };
                if !rules
                    .testing
                    .negative_ends_quarantine(sample_day(n), *until)
                    || !done.insert(*case_id)
                {
                    continue;
                }
                sqlx::query(
                    "UPDATE cases SET active = 0, state = 'released' WHERE id = $1 AND active = 1",
                )
                .bind(*case_id)
                .execute(&mut *tx)
                .await?;
                effects[n.line].quarantine_ended_case_ids.push(*case_id);
                audits.push((
                    format!("case:{case_id}"),
                    format!("quarantine ended: negative on the release day ({until})"),
                ));
                if let Some(phone) = &n.facts.phone {
                    outbox.push(Out {
                        channel: OutboxChannel::Sms,
                        recipient: phone.clone(),
                        body: Sms::QuarantineEnded.vi().to_owned(),
                        unit: n.facts.commune_code.clone(),
                    });
                }
            }
        }

        // Samples ordered by results: re-samples, re-tests, confirming PCRs.
        let new: Vec<NewSample> = orders.iter().map(|(_, s)| s.clone()).collect();
        let ids = insert_samples(&mut *tx, &new, actor, at).await?;
        for ((line, s), id) in orders.iter().zip(ids) {
            match s.reason {
                SampleReason::Suspected => effects[*line].pcr_ordered_id = Some(id),
                _ => effects[*line].resample_ids.push(id),
            }
        }

        insert_rows(
            &mut *tx,
            backend,
            "outbox (channel, recipient, body, created_at, unit_code, secret)",
            6,
            "",
            &outbox,
            |q, o| {
                q.bind(o.channel.as_str())
                    .bind(o.recipient.clone())
                    .bind(o.body.clone())
                    .bind(at)
                    .bind(o.unit.clone())
                    .bind(0_i64)
            },
        )
        .await?;
        insert_audits(&mut *tx, backend, at, actor, "result.record", &audits).await?;

        let mut out = Vec::with_capacity(results.len());
        for (i, (r, e)) in results.iter().zip(effects).enumerate() {
            let earlier = first.get(&r.target).copied().unwrap_or(i);
            if earlier == i && inserted.contains_key(&r.target) {
                out.push(ResultOutcome::Recorded(e));
                continue;
            }
            let against = match stored.get(&r.target) {
                Some(s) => s.clone(),
                None => {
                    let f = &results[earlier];
                    ResultRecord {
                        id: inserted.get(&r.target).copied().unwrap_or_default(),
                        result: f.result,
                        tested_at: kiemdich_domain::Instant(f.tested_at),
                        lab: f.lab.clone(),
                        ct: f.ct,
                        source: f.source,
                        case_id: None,
                        entered_by: actor.to_owned(),
                    }
                }
            };
            out.push(if r.same_as(&against) {
                ResultOutcome::Unchanged {
                    result_id: against.id,
                    case_id: against.case_id,
                }
            } else {
                ResultOutcome::Differs(Box::new(against))
            });
        }
        Ok(out)
    }
}

/// Sets each (result, case) pair's result to name its case, a statement per 500 pairs (integers we made:
/// inlined).
async fn link_cases(conn: &mut AnyConnection, links: &[(i64, i64)]) -> Result<()> {
    for chunk in links.chunks(500) {
        let whens: String = chunk
            .iter()
            .map(|(result, case)| format!(" WHEN {result} THEN {case}"))
            .collect();
        let ids: Vec<String> = chunk.iter().map(|(result, _)| result.to_string()).collect();
        let sql = format!(
            "UPDATE results SET case_id = CASE id{whens} END WHERE id IN ({})",
            ids.join(",")
        );
        sqlx::query(AssertSqlSafe(sql)).execute(&mut *conn).await?;
    }
    Ok(())
}

/// The notice a commune gets when a pool holding its people is positive: how many and which labels.
fn pool_notices(pool: i64, result: TestResult, members: &[Facts]) -> Vec<Out> {
    let mut by_commune: HashMap<&str, Vec<&str>> = HashMap::new();
    for f in members {
        by_commune
            .entry(f.commune_code.as_str())
            .or_default()
            .push(f.label.as_str());
    }
    let mut out: Vec<Out> = by_commune
        .into_iter()
        .map(|(commune, labels)| Out {
            channel: OutboxChannel::Commune,
            recipient: commune.to_owned(),
            body: fill(
                Sms::PoolToCommune.vi(),
                &[
                    ("pool", &label(LabelKind::Pool, pool)),
                    ("result", result.name(Lang::Vi)),
                    ("people", &labels.len().to_string()),
                    ("labels", &labels.join(", ")),
                ],
            ),
            unit: commune.to_owned(),
        })
        .collect();
    out.sort_by(|a, b| a.recipient.cmp(&b.recipient));
    out
}

/// A new pool of `sample_ids`, all moved into it (status pooled). Unless `retest` (the members of an
/// invalid pool, pooled again), every member must be a PCR sample not yet pooled or tested: otherwise a
/// conflict.
async fn new_pool(
    conn: &mut AnyConnection,
    sample_ids: &[i64],
    actor: &str,
    at: i64,
    retest: bool,
) -> Result<(i64, String)> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO pools (test_type, created_by, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(TestType::Pcr.as_str())
    .bind(actor.to_owned())
    .bind(at)
    .fetch_one(&mut *conn)
    .await?;
    let pool_label = label(LabelKind::Pool, id);
    sqlx::query("UPDATE pools SET label = $1 WHERE id = $2")
        .bind(pool_label.clone())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let guard = if retest {
        String::new()
    } else {
        "AND pool_id IS NULL AND test_type = 'pcr' AND status IN ('ordered', 'collected', 'received')"
            .to_owned()
    };
    let moved = execute_ids(
        conn,
        &format!(
            "UPDATE samples SET pool_id = {id}, status = 'pooled' WHERE id IN ({{in}}) {guard}"
        ),
        sample_ids,
    )
    .await?;
    if moved != sample_ids.len() as u64 {
        return Err(StoreError::Conflict(
            "a sample of the pool was pooled or resulted meanwhile; nothing was written".into(),
        ));
    }
    Ok((id, pool_label))
}

/// The active cases of `ids`: id and class by citizen.
async fn active_cases_on(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[String],
) -> Result<HashMap<String, (i64, CaseClass)>> {
    let sql = "SELECT id, citizen_id, classification FROM cases WHERE active = 1 AND citizen_id IN ({in})";
    let mut out = HashMap::new();
    for r in &fetch_in_on(conn, backend, sql, ids).await? {
        let class = CaseClass::parse(&r.try_get::<String, _>("classification")?)
            .map_err(|e| corrupt("case class", e))?;
        out.insert(r.try_get("citizen_id")?, (r.try_get("id")?, class));
    }
    Ok(out)
}

/// The active F1 quarantines of `ids`: case id and last day by citizen.
async fn quarantines_on(
    conn: &mut AnyConnection,
    backend: Backend,
    ids: &[String],
) -> Result<HashMap<String, (i64, NaiveDate)>> {
    let sql = "SELECT id, citizen_id, quarantine_until FROM cases WHERE active = 1 AND classification = 'f1' \
               AND quarantine_until IS NOT NULL AND citizen_id IN ({in})";
    let mut out = HashMap::new();
    for r in &fetch_in_on(conn, backend, sql, ids).await? {
        let until: String = r.try_get("quarantine_until")?;
        out.insert(
            r.try_get("citizen_id")?,
            (
                r.try_get("id")?,
                until.parse().map_err(|e| corrupt("quarantine_until", e))?,
            ),
        );
    }
    Ok(out)
}

/// What checking one result line found.
#[derive(Debug, Clone, PartialEq)]
pub enum LineCheck {
    /// Ready to record; the target as looked up (its people's communes, for jurisdiction).
    Ready(CheckedResult, ResolvedTarget),
    /// Exactly the result stored for its sample or pool: nothing to do.
    Same(ResolvedTarget),
    Bad(kiemdich_domain::FieldErrors),
}

impl Store {
    /// Checks raw result lines against themselves, the rules and what they name: an unknown sample or pool, a
    /// sample already resulted (unless the line is that very result: [`LineCheck::Same`]) or pooled, a test
    /// before the collection or after `now`, a Ct value out of range. One answer per line, in order; nothing is
    /// written.
    pub async fn check_results(
        &self,
        raws: &[kiemdich_domain::testing::RawResult],
        rules: &Rules,
        source: ResultSource,
        now: i64,
    ) -> Result<Vec<LineCheck>> {
        use kiemdich_domain::catalogue::Problem;
        let parsed: Vec<_> = raws
            .iter()
            .map(|r| {
                kiemdich_domain::ResultEntry::parse(
                    r,
                    &rules.testing,
                    rules.tracing.utc_offset_hours,
                    now,
                )
            })
            .collect();
        let refs: Vec<TargetRef> = parsed
            .iter()
            .filter_map(|p| p.as_ref().ok().map(|e| e.target))
            .collect();
        let found = self.resolve_targets(&refs).await?;
        Ok(parsed
            .into_iter()
            .map(|p| {
                let entry = match p {
                    Ok(e) => e,
                    Err(errs) => return LineCheck::Bad(errs),
                };
                let mut errs = kiemdich_domain::FieldErrors::default();
                let target = match found.get(&entry.target) {
                    Some(Ok(t)) => t.clone(),
                    Some(Err(why)) => {
                        errs.push_as("sample_id", Problem::UnknownSample, why);
                        return LineCheck::Bad(errs);
                    }
                    None => {
                        errs.push_as("sample_id", Problem::UnknownSample, "not looked up");
                        return LineCheck::Bad(errs);
                    }
                };
                let checked = CheckedResult {
                    target: target.target,
                    result: entry.result,
                    tested_at: entry.tested_at,
                    lab: entry.lab.clone(),
                    ct: entry.ct,
                    source,
                };
                if let Some(stored) = &target.stored
                    && checked.same_as(stored)
                {
                    return LineCheck::Same(target);
                }
                entry.check_against(&target.facts, &mut errs);
                if errs.is_empty() {
                    LineCheck::Ready(checked, target)
                } else {
                    LineCheck::Bad(errs)
                }
            })
            .collect())
    }
}

impl Store {
    /// How many samples are stored (the demo seeds its own only into an empty table).
    pub async fn count_samples(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM samples")
            .fetch_one(&self.read)
            .await?)
    }
}
