//! Cases and their effects. Opening a case revokes the person's live passes at once (online verification sees
//! it immediately, offline scanners through the revocation delta), and queues notices to the person and to
//! their home commune, all in the same transaction; an active case for anyone in a batch refuses the batch.

use crate::access::insert_audit;
use crate::access::insert_audits;
use crate::db::{Backend, Result, Store, StoreError, insert_rows, now};
use crate::declarations::{Notice, enqueue, enqueue_all};
use crate::declaring::{revoke_live_passes, revoke_live_passes_of};
use chrono::NaiveDate;
use kiemdich_domain::catalogue::{Labelled as _, Lang, Message as _, Sms, fill};
use kiemdich_domain::trace_walk::TraceResult;
use kiemdich_domain::tracing::Exposure;
use kiemdich_domain::{
    CaseClass, CaseReport, CaseSource, CaseState, CitizenId, DetectedIn, FollowUpChannel,
    FollowUpOutcome, OutboxChannel, RegistryRecord, UnitCode,
};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use std::collections::HashMap;

/// A case to open. An F1 or F2 names the person it was exposed to (`via`) and the evidence.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub citizen_id: CitizenId,
    pub commune_code: String,
    pub phone: Option<String>,
    pub class: CaseClass,
    pub state: CaseState,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub isolated_date: Option<NaiveDate>,
    pub source: CaseSource,
    pub via: Option<String>,
    pub exposures: Vec<Exposure>,
    pub vaccinated: bool,
    pub quarantine_until: Option<NaiveDate>,
    pub rule_version: String,
    /// In the community (counted by the risk rules) or already in quarantine or isolation.
    pub detected_in: DetectedIn,
    /// The day the case counts for: its sample date, else the day it is recorded (Vietnam time).
    pub counted_on: NaiveDate,
    /// An F1's quarantine test days (the testing rules'): a PCR sample is ordered for each.
    pub test_days: Vec<NaiveDate>,
}

impl NewCase {
    /// A reported case (suspected or F0) of a person of the registry, recorded `today` (Vietnam time).
    pub fn reported(
        r: &CaseReport,
        person: &RegistryRecord,
        rule_version: &str,
        today: NaiveDate,
    ) -> NewCase {
        NewCase {
            citizen_id: r.citizen_id,
            commune_code: person.commune_code.to_string(),
            phone: person.phone.as_ref().map(|p| p.as_str().to_owned()),
            class: r.class,
            state: r.state,
            onset_date: r.onset_date,
            sample_date: r.sample_date,
            isolated_date: r.isolated_date,
            source: r.source,
            via: None,
            exposures: Vec::new(),
            vaccinated: r.vaccinated,
            quarantine_until: None,
            rule_version: rule_version.to_owned(),
            detected_in: r.detected_in,
            counted_on: r.sample_date.unwrap_or(today),
            test_days: Vec::new(),
        }
    }
}

/// A case as stored, parsed once when read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRecord {
    pub id: i64,
    pub citizen_id: CitizenId,
    pub commune_code: UnitCode,
    pub classification: CaseClass,
    pub state: CaseState,
    pub active: bool,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub isolated_date: Option<NaiveDate>,
    pub source: CaseSource,
    pub source_case_id: Option<i64>,
    pub vaccinated: bool,
    pub quarantine_until: Option<NaiveDate>,
    pub rule_version: String,
    pub created_at: kiemdich_domain::Instant,
    pub created_by: String,
    pub detected_in: DetectedIn,
    pub counted_on: Option<NaiveDate>,
}

/// What opening one case did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opened {
    pub case_id: i64,
    pub citizen_id: String,
    pub classification: CaseClass,
    pub revoked_passes: Vec<String>,
}

pub(crate) fn case_from_row(r: &AnyRow) -> Result<CaseRecord> {
    let id: i64 = r.try_get("id")?;
    let bad = |what: &str, e: String| StoreError::Corrupt(format!("case {id}: {what}: {e}"));
    let text = |col: &str| -> Result<String> { Ok(r.try_get::<String, _>(col)?) };
    let day = |col: &str| -> Result<Option<NaiveDate>> {
        r.try_get::<Option<String>, _>(col)?
            .map(|d| {
                d.parse()
                    .map_err(|e: chrono::ParseError| bad(col, e.to_string()))
            })
            .transpose()
    };
    Ok(CaseRecord {
        id,
        citizen_id: CitizenId::parse(&text("citizen_id")?)
            .map_err(|e| bad("citizen_id", e.to_string()))?,
        commune_code: UnitCode::parse(&text("commune_code")?)
            .map_err(|e| bad("commune_code", e))?,
        classification: CaseClass::parse(&text("classification")?)
            .map_err(|e| bad("classification", e))?,
        state: CaseState::parse(&text("state")?).map_err(|e| bad("state", e))?,
        active: r.try_get::<i64, _>("active")? == 1,
        onset_date: day("onset_date")?,
        sample_date: day("sample_date")?,
        isolated_date: day("isolated_date")?,
        source: CaseSource::parse(&text("source")?).map_err(|e| bad("source", e))?,
        source_case_id: r.try_get("source_case_id")?,
        vaccinated: r.try_get::<i64, _>("vaccinated")? == 1,
        quarantine_until: day("quarantine_until")?,
        rule_version: r.try_get("rule_version")?,
        created_at: kiemdich_domain::Instant(r.try_get("created_at")?),
        created_by: r.try_get("created_by")?,
        detected_in: DetectedIn::parse(&text("detected_in")?).map_err(|e| bad("detected_in", e))?,
        counted_on: day("counted_on")?,
    })
}

/// The notices opening a case sends: to the person (SMS and in-app) and to their home commune, which does
/// their follow-up; all readable by the staff of that commune.
fn case_notices(c: &NewCase, id: i64) -> Vec<Notice> {
    let text = notice(c);
    let to = |channel, recipient: &str, body: &str| Notice {
        channel,
        recipient: recipient.to_owned(),
        body: body.to_owned(),
        unit: c.commune_code.clone(),
    };
    let commune = fill(
        Sms::CaseToCommune.vi(),
        &[
            ("class", c.class.name(Lang::Vi)),
            ("person", &c.citizen_id.masked()),
            ("case", &id.to_string()),
        ],
    );
    let mut out: Vec<Notice> = c
        .phone
        .iter()
        .map(|p| to(OutboxChannel::Sms, p, &text))
        .collect();
    out.push(to(OutboxChannel::App, c.citizen_id.as_str(), &text));
    out.push(to(OutboxChannel::Commune, &c.commune_code, &commune));
    out
}

fn notice(c: &NewCase) -> String {
    let opened = fill(Sms::CaseOpened.vi(), &[("class", c.class.name(Lang::Vi))]);
    let opened = if c.test_days.is_empty() {
        opened
    } else {
        let days: Vec<String> = c
            .test_days
            .iter()
            .map(|d| kiemdich_domain::LocalClock::date(*d))
            .collect();
        format!(
            "{opened} {}",
            fill(Sms::F1TestDays.vi(), &[("days", &days.join(", "))])
        )
    };
    match c.quarantine_until {
        Some(d) => {
            let date = kiemdich_domain::LocalClock::date(d);
            format!(
                "{opened} {}",
                fill(Sms::QuarantineUntil.vi(), &[("date", &date)])
            )
        }
        None => opened,
    }
}

/// Writes `cases` as they are (naming no source case) with multi-row statements; `suffix` follows each
/// statement (a `RETURNING` clause). A second active case for one person refuses the whole batch.
async fn insert_cases(
    conn: &mut AnyConnection,
    backend: Backend,
    cases: &[NewCase],
    actor: &str,
    at: i64,
    suffix: &str,
) -> Result<Vec<AnyRow>> {
    insert_rows(
        conn,
        backend,
        "cases (citizen_id, commune_code, classification, state, active, onset_date, sample_date, isolated_date, source, \
         source_case_id, vaccinated, quarantine_until, rule_version, created_at, created_by, detected_in, counted_on)",
        17,
        suffix,
        cases,
        |q, c| {
            q.bind(c.citizen_id.to_string())
                .bind(c.commune_code.clone())
                .bind(c.class.as_str())
                .bind(c.state.as_str())
                .bind(i64::from(c.state.is_active()))
                .bind(c.onset_date.map(|d| d.to_string()))
                .bind(c.sample_date.map(|d| d.to_string()))
                .bind(c.isolated_date.map(|d| d.to_string()))
                .bind(c.source.as_str())
                .bind(None::<i64>)
                .bind(i64::from(c.vaccinated))
                .bind(c.quarantine_until.map(|d| d.to_string()))
                .bind(c.rule_version.clone())
                .bind(at)
                .bind(actor.to_owned())
                .bind(c.detected_in.as_str())
                .bind(c.counted_on.to_string())
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Db(sqlx::Error::Database(d)) if d.is_unique_violation() => StoreError::Conflict(
            "a person in the batch already has an active case; nothing was written".into(),
        ),
        e => e,
    })
}

impl NewCase {
    /// Whether the case names no one it was exposed to and orders no tests (a positive result's F0).
    fn is_plain(&self) -> bool {
        self.via.is_none() && self.exposures.is_empty() && self.test_days.is_empty()
    }
}

impl Store {
    /// Opens cases in one transaction, in order, so that an F2 may name an F1 opened earlier in the batch.
    pub async fn open_cases(&self, cases: &[NewCase], actor: &str) -> Result<Vec<Opened>> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let out = self.open_cases_in(&mut tx, cases, actor, at).await?;
        tx.commit().await?;
        self.touch_holders(cases.iter().map(|c| &c.citizen_id));
        Ok(out)
    }

    /// [`Store::open_cases`] inside the caller's transaction (a result that opens a case does so in the
    /// transaction that records it). An F1 with test days gets a PCR sample ordered for each day.
    pub(crate) async fn open_cases_in(
        &self,
        tx: &mut AnyConnection,
        cases: &[NewCase],
        actor: &str,
        at: i64,
    ) -> Result<Vec<Opened>> {
        if cases.iter().all(NewCase::is_plain) {
            return self.open_plain_cases_in(tx, cases, actor, at).await;
        }
        let mut opened: HashMap<String, i64> = HashMap::new();
        let mut out = Vec::with_capacity(cases.len());
        for c in cases {
            let source_case_id = match &c.via {
                None => None,
                Some(via) => match opened.get(via) {
                    Some(id) => Some(*id),
                    None => Some(
                        sqlx::query_scalar::<_, i64>("SELECT id FROM cases WHERE citizen_id = $1 AND active = 1")
                            .bind(via.clone())
                            .fetch_optional(&mut *tx)
                            .await?
                            .ok_or_else(|| StoreError::Invalid(format!(
                                "{} was exposed to {via}, who has no active case; confirm {via} first",
                                c.citizen_id
                            )))?,
                    ),
                },
            };
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO cases (citizen_id, commune_code, classification, state, active, onset_date, sample_date, isolated_date, source, \
                 source_case_id, vaccinated, quarantine_until, rule_version, created_at, created_by, detected_in, counted_on) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
            )
            .bind(c.citizen_id.to_string())
            .bind(c.commune_code.clone())
            .bind(c.class.as_str())
            .bind(c.state.as_str())
            .bind(i64::from(c.state.is_active()))
            .bind(c.onset_date.map(|d| d.to_string()))
            .bind(c.sample_date.map(|d| d.to_string()))
            .bind(c.isolated_date.map(|d| d.to_string()))
            .bind(c.source.as_str())
            .bind(source_case_id)
            .bind(i64::from(c.vaccinated))
            .bind(c.quarantine_until.map(|d| d.to_string()))
            .bind(c.rule_version.clone())
            .bind(at)
            .bind(actor.to_owned())
            .bind(c.detected_in.as_str())
            .bind(c.counted_on.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(|e| match &e {
                sqlx::Error::Database(d) if d.is_unique_violation() => StoreError::Conflict(format!(
                    "{} already has an active case; nothing was written",
                    c.citizen_id
                )),
                _ => StoreError::from(e),
            })?;
            if let Some(source) = source_case_id {
                insert_rows(
                    &mut *tx,
                    self.backend(),
                    "case_exposures (case_id, source_case_id, location_id, from_at, to_at, minutes)",
                    6,
                    "",
                    &c.exposures,
                    |q, e| q.bind(id).bind(source).bind(e.location_id).bind(e.from).bind(e.to).bind(e.minutes),
                )
                .await?;
            }
            let reason = format!("case:{}", c.class.as_str());
            let revoked = revoke_live_passes(
                &mut *tx,
                self.backend(),
                &[c.citizen_id.as_str()],
                &reason,
                at,
            )
            .await?;
            for n in case_notices(c, id) {
                enqueue(&mut *tx, &n, false, at).await?;
            }
            insert_audit(
                &mut *tx,
                actor,
                "case.open",
                &format!("citizen:{}", c.citizen_id),
                &format!("case {id} {}", c.class.as_str()),
            )
            .await?;
            if !c.test_days.is_empty() {
                let orders: Vec<crate::testing::NewSample> = c
                    .test_days
                    .iter()
                    .map(|d| crate::testing::NewSample::f1_test(c, *d))
                    .collect();
                crate::testing::insert_samples(&mut *tx, &orders, actor, at).await?;
            }
            opened.insert(c.citizen_id.to_string(), id);
            out.push(Opened {
                case_id: id,
                citizen_id: c.citizen_id.to_string(),
                classification: c.class,
                revoked_passes: revoked,
            });
        }
        Ok(out)
    }

    /// [`Store::open_cases_in`] for cases that name no one and order no tests (the F0 cases of a batch of
    /// results): the same rows — the cases in order, each person's live passes revoked, the notices, an audit
    /// row per case — with one statement per table instead of several per case.
    async fn open_plain_cases_in(
        &self,
        tx: &mut AnyConnection,
        cases: &[NewCase],
        actor: &str,
        at: i64,
    ) -> Result<Vec<Opened>> {
        let backend = self.backend();
        let mut ids: HashMap<String, i64> = HashMap::with_capacity(cases.len());
        for r in insert_cases(
            &mut *tx,
            backend,
            cases,
            actor,
            at,
            "RETURNING id, citizen_id",
        )
        .await?
        {
            ids.insert(r.try_get("citizen_id")?, r.try_get("id")?);
        }
        let id_of = |c: &NewCase| {
            ids.get(c.citizen_id.as_str()).copied().ok_or_else(|| {
                StoreError::Corrupt(format!("case of {} not returned", c.citizen_id))
            })
        };
        let mut revoked: HashMap<String, Vec<String>> = HashMap::new();
        let mut classes: Vec<CaseClass> = cases.iter().map(|c| c.class).collect();
        classes.sort_unstable_by_key(|c| c.as_str());
        classes.dedup();
        for class in classes {
            let of: Vec<&str> = cases
                .iter()
                .filter(|c| c.class == class)
                .map(|c| c.citizen_id.as_str())
                .collect();
            let reason = format!("case:{}", class.as_str());
            for (pass, who) in revoke_live_passes_of(&mut *tx, backend, &of, &reason, at).await? {
                revoked.entry(who).or_default().push(pass);
            }
        }
        let mut notices: Vec<Notice> = Vec::new();
        let mut audits: Vec<(String, String)> = Vec::with_capacity(cases.len());
        let mut out = Vec::with_capacity(cases.len());
        for c in cases {
            let id = id_of(c)?;
            notices.extend(case_notices(c, id));
            audits.push((
                format!("citizen:{}", c.citizen_id),
                format!("case {id} {}", c.class.as_str()),
            ));
            out.push(Opened {
                case_id: id,
                citizen_id: c.citizen_id.to_string(),
                classification: c.class,
                revoked_passes: revoked.remove(c.citizen_id.as_str()).unwrap_or_default(),
            });
        }
        enqueue_all(&mut *tx, backend, &notices, at).await?;
        insert_audits(&mut *tx, backend, now(), actor, "case.open", &audits).await?;
        Ok(out)
    }

    /// The bulk path for a CDC backfill (and the map benchmark): writes `cases` as they are, in multi-row inserts
    /// in one transaction, with one audit row for the batch. Unlike [`Store::open_cases`] it sends no notices,
    /// revokes no passes and links no exposures: these are past cases whose effects happened elsewhere. A second
    /// active case for one person refuses the whole batch. Returns how many were written.
    pub async fn import_cases(&self, cases: &[NewCase], actor: &str) -> Result<u64> {
        let at = now();
        let mut tx = self.begin_write().await?;
        insert_cases(&mut tx, self.backend(), cases, actor, at, "").await?;
        insert_audit(
            &mut tx,
            actor,
            "case.import",
            "cases",
            &format!("{} cases", cases.len()),
        )
        .await?;
        tx.commit().await?;
        self.touch_holders(cases.iter().map(|c| &c.citizen_id));
        Ok(cases.len() as u64)
    }

    pub async fn case(&self, id: i64) -> Result<Option<CaseRecord>> {
        let row = sqlx::query("SELECT * FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(case_from_row).transpose()
    }

    /// The home communes recorded on a person's cases, for a person the registry does not hold.
    pub async fn case_communes(&self, citizen_id: &str) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT DISTINCT commune_code FROM cases WHERE citizen_id = $1")
                .bind(citizen_id.to_owned())
                .fetch_all(&self.read)
                .await?,
        )
    }

    /// Keeps a tracing result as computed, with its rule version; returns its id.
    pub async fn save_trace_result(
        &self,
        case_id: i64,
        result: &TraceResult,
        actor: &str,
    ) -> Result<i64> {
        let json = serde_json::to_string(result).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let rule_version = &result.rule_version;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tracing_runs (case_id, rule_version, result, created_at, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(case_id)
        .bind(rule_version.to_owned())
        .bind(json)
        .bind(now())
        .bind(actor.to_owned())
        .fetch_one(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "case.trace",
            &format!("case:{case_id}"),
            &format!("trace {id}"),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// A kept tracing result: its case and the result. One that does not read is [`StoreError::Corrupt`].
    pub async fn trace_run_result(&self, id: i64) -> Result<Option<(i64, TraceResult)>> {
        let run = self.trace_run(id).await?;
        run.map(|(case_id, json)| Ok((case_id, read_trace(id, &json)?)))
            .transpose()
    }

    /// A kept tracing result as its JSON text.
    async fn trace_run(&self, id: i64) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT case_id, result FROM tracing_runs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.map(|r| Ok((r.try_get("case_id")?, r.try_get("result")?)))
            .transpose()
    }

    /// Moves a case along its course; releasing it (or a death) ends it, so the person may get a new case later.
    pub async fn set_case_state(&self, id: i64, state: CaseState, actor: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let done =
            sqlx::query("UPDATE cases SET state = $1, active = $2 WHERE id = $3 AND active = 1")
                .bind(state.as_str())
                .bind(i64::from(state.is_active()))
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(|e| match &e {
                    sqlx::Error::Database(d) if d.is_unique_violation() => {
                        StoreError::Conflict("the person has another active case".into())
                    }
                    _ => StoreError::from(e),
                })?;
        insert_audit(
            &mut tx,
            actor,
            "case.state",
            &format!("case:{id}"),
            state.as_str(),
        )
        .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues the zoning notices of a case once per person: someone already told about this case is
    /// skipped, however often notifying is asked for. Returns how many people were newly told.
    pub async fn queue_zone_notices(
        &self,
        case_id: i64,
        people: &[(String, Vec<Notice>)],
        actor: &str,
    ) -> Result<usize> {
        let at = now();
        let mut tx = self.begin_write().await?;
        let mut told = 0;
        for (citizen, notices) in people {
            let fresh = sqlx::query(
                "INSERT INTO zone_notices (case_id, citizen_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(case_id)
            .bind(citizen.clone())
            .bind(at)
            .execute(&mut *tx)
            .await?
            .rows_affected()
                == 1;
            if fresh {
                for n in notices {
                    enqueue(&mut tx, n, false, at).await?;
                }
                told += 1;
            }
        }
        insert_audit(
            &mut tx,
            actor,
            "zones.notify",
            &format!("case:{case_id}"),
            &format!("{told} people told"),
        )
        .await?;
        tx.commit().await?;
        Ok(told)
    }

    /// The newest kept trace of a case: its id and the result. One that does not read is [`StoreError::Corrupt`].
    pub async fn latest_trace_result(&self, case_id: i64) -> Result<Option<(i64, TraceResult)>> {
        let run = self.latest_trace(case_id).await?;
        run.map(|(id, json)| Ok((id, read_trace(id, &json)?)))
            .transpose()
    }

    /// The newest kept trace of a case as its JSON text.
    async fn latest_trace(&self, case_id: i64) -> Result<Option<(i64, String)>> {
        let row = sqlx::query(
            "SELECT id, result FROM tracing_runs WHERE case_id = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(case_id)
        .fetch_optional(&self.read)
        .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("result")?)))
            .transpose()
    }

    /// The transmission chain a case belongs to: up to its first known source, then every case traced from
    /// there, with the exposures that link them (source case, case, evidence).
    pub async fn chain(&self, case_id: i64) -> Result<(Vec<CaseRecord>, Vec<ChainLink>)> {
        let mut root = case_id;
        for _ in 0..100 {
            match self.case(root).await?.and_then(|c| c.source_case_id) {
                Some(up) => root = up,
                None => break,
            }
        }
        let mut cases: Vec<CaseRecord> = self.case(root).await?.into_iter().collect();
        let mut frontier = vec![root];
        while !frontier.is_empty() && cases.len() < 10_000 {
            let sql = format!(
                "SELECT * FROM cases WHERE source_case_id IN ({}) ORDER BY id",
                crate::db::list_placeholders(self.backend(), frontier.len()).join(",")
            );
            let rows = frontier
                .iter()
                .fold(sqlx::query(sqlx::AssertSqlSafe(sql)), |q, id| q.bind(*id))
                .fetch_all(&self.read)
                .await?;
            let next: Vec<CaseRecord> = rows.iter().map(case_from_row).collect::<Result<_>>()?;
            frontier = next.iter().map(|c| c.id).collect();
            cases.extend(next);
        }
        let mut links = Vec::new();
        for c in cases.iter().filter(|c| c.source_case_id.is_some()) {
            let rows = sqlx::query(
                "SELECT source_case_id, location_id, from_at, to_at, minutes FROM case_exposures WHERE case_id = $1 ORDER BY from_at",
            )
            .bind(c.id)
            .fetch_all(&self.read)
            .await?;
            links.push(ChainLink {
                from_case: c.source_case_id.unwrap_or_default(),
                to_case: c.id,
                exposures: rows
                    .iter()
                    .map(|r| {
                        Ok(Exposure {
                            location_id: r.try_get("location_id")?,
                            from: r.try_get("from_at")?,
                            to: r.try_get("to_at")?,
                            minutes: r.try_get("minutes")?,
                        })
                    })
                    .collect::<Result<_>>()?,
            });
        }
        Ok((cases, links))
    }
}

/// A person to check on today: their case, and what was recorded for the day, if anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FollowUp {
    pub case: CaseRecord,
    pub outcome: Option<FollowUpOutcome>,
    pub channel: Option<FollowUpChannel>,
    pub note: Option<String>,
    pub recorded_by: Option<String>,
    /// The person posted a daily health update with warning signs that day: they come first.
    pub urgent: bool,
}

impl Store {
    /// Active cases in `communes` to be checked on `day`: every isolating F0 or suspected case, and F1s whose
    /// quarantine runs through the day; with the day's record if one was made. People whose update of the day
    /// showed warning signs come first.
    pub async fn follow_ups(&self, communes: &[String], day: NaiveDate) -> Result<Vec<FollowUp>> {
        let mut out = Vec::new();
        for chunk in communes.chunks(500) {
            // In text order, as SQLite's anonymous parameters are bound: the day twice, the communes, the day again.
            let p = crate::db::list_placeholders(self.backend(), chunk.len() + 3);
            let sql = format!(
                "SELECT c.*, f.outcome, f.channel, f.note, f.recorded_by, \
                 CAST(CASE WHEN EXISTS (SELECT 1 FROM health_updates h WHERE h.citizen_id = c.citizen_id AND h.day = {} AND h.urgent = 1) THEN 1 ELSE 0 END AS BIGINT) AS urgent \
                 FROM cases c LEFT JOIN follow_ups f ON f.case_id = c.id AND f.day = {} \
                 WHERE c.active = 1 AND c.commune_code IN ({}) AND (c.classification IN ('f0', 'suspected') OR (c.classification = 'f1' AND c.quarantine_until >= {})) \
                 ORDER BY urgent DESC, c.commune_code, c.id",
                p[0],
                p[1],
                p[2..=chunk.len() + 1].join(","),
                p[chunk.len() + 2]
            );
            let q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(day.to_string())
                .bind(day.to_string());
            let rows = chunk
                .iter()
                .fold(q, |q, c| q.bind(c.as_str()))
                .bind(day.to_string())
                .fetch_all(&self.read)
                .await?;
            for r in &rows {
                let case = case_from_row(r)?;
                let bad = |what: &str, e: String| {
                    StoreError::Corrupt(format!("follow-up of case {}: {what}: {e}", case.id))
                };
                let outcome = r.try_get::<Option<String>, _>("outcome")?;
                let channel = r.try_get::<Option<String>, _>("channel")?;
                out.push(FollowUp {
                    outcome: outcome
                        .map(|o| FollowUpOutcome::parse(&o).map_err(|e| bad("outcome", e)))
                        .transpose()?,
                    channel: channel
                        .map(|c| FollowUpChannel::parse(&c).map_err(|e| bad("channel", e)))
                        .transpose()?,
                    case,
                    note: r.try_get("note")?,
                    recorded_by: r.try_get("recorded_by")?,
                    urgent: r.try_get::<i64, _>("urgent")? == 1,
                });
            }
        }
        // Chunks are each in order; urgent people of every chunk first (stable: the rest keep their order).
        out.sort_by_key(|f| !f.urgent);
        Ok(out)
    }

    /// Records (or corrects) the day's check on a case.
    pub async fn record_follow_up(
        &self,
        case_id: i64,
        day: NaiveDate,
        outcome: FollowUpOutcome,
        channel: FollowUpChannel,
        note: &str,
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO follow_ups (case_id, day, outcome, channel, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (case_id, day) DO UPDATE SET outcome = excluded.outcome, channel = excluded.channel, note = excluded.note, \
             recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        )
        .bind(case_id)
        .bind(day.to_string())
        .bind(outcome.as_str())
        .bind(channel.as_str())
        .bind(note.to_owned())
        .bind(actor.to_owned())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "case.follow_up",
            &format!("case:{case_id}"),
            &format!("{day} {} {}", outcome.as_str(), channel.as_str()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// One edge of a transmission chain: a case exposed to another, with the evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChainLink {
    pub from_case: i64,
    pub to_case: i64,
    pub exposures: Vec<Exposure>,
}

/// A kept trace's JSON as the result it was written from.
fn read_trace(id: i64, json: &str) -> Result<TraceResult> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("tracing run {id}: {e}")))
}
