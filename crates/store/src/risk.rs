//! Risk levels: the inputs of a week per commune (community F0 counted that week, deaths, official figures,
//! capacity checklists) and the steering committee's decisions with their signed PDFs. Decisions are written
//! whole in one transaction and audited.

use crate::access::insert_audit;
use crate::db::{Result, Store, StoreError, now};
use chrono::NaiveDate;
use kiemdich_domain::risk::Figure;
use kiemdich_domain::{Instant, IsoWeek, RiskLevel, UnitCode};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;
use std::collections::{BTreeMap, HashMap};

/// What the case records say of a commune for a week.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WeekCounts {
    /// F0 cases counted that week that were found in the community.
    pub community: i64,
    /// F0 cases counted that week that have died.
    pub died: i64,
}

/// One official figure of a unit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureRow {
    pub unit_code: UnitCode,
    pub figure: Figure,
    /// `None` for a standing figure, else the week it describes.
    pub period: Option<IsoWeek>,
    pub value: f64,
    pub source: String,
}

/// A unit's level in a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionLevel {
    pub unit: UnitCode,
    pub level: RiskLevel,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDecision {
    pub number: String,
    pub date: NaiveDate,
    pub issued_by: String,
    pub effective_from: NaiveDate,
    pub province: UnitCode,
    pub levels: Vec<DecisionLevel>,
}

/// The signed PDF of a decision, as listed (never the body).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionFile {
    pub file_name: String,
    pub bytes: i64,
    pub uploaded_at: Instant,
}

/// A stored decision.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DecisionRecord {
    pub id: i64,
    pub number: String,
    pub date: NaiveDate,
    pub issued_by: String,
    pub effective_from: NaiveDate,
    pub province: UnitCode,
    pub recorded_by: String,
    pub recorded_at: Instant,
    pub levels: Vec<DecisionLevel>,
    pub file: Option<DecisionFile>,
}

/// The official level of a unit on a day: the latest decision effective on or before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfficialLevel {
    pub level: RiskLevel,
    pub decision_id: i64,
    pub decision: String,
    pub effective_from: NaiveDate,
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

fn unit(r: &AnyRow, col: &str) -> Result<UnitCode> {
    let s: String = r.try_get(col)?;
    UnitCode::parse(&s).map_err(|e| corrupt(col, e))
}

fn date(r: &AnyRow, col: &str) -> Result<NaiveDate> {
    let s: String = r.try_get(col)?;
    s.parse().map_err(|e| corrupt(col, e))
}

fn level(r: &AnyRow) -> Result<RiskLevel> {
    RiskLevel::new(r.try_get("level")?).map_err(|e| corrupt("level", e))
}

impl Store {
    /// Community F0 cases and deaths per commune counted between `from` and `to` (inclusive): one grouped
    /// range read on the `cases_counted` index.
    pub async fn week_counts(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<UnitCode, WeekCounts>> {
        let rows = sqlx::query(
            "SELECT commune_code, \
             SUM(CASE WHEN detected_in = 'community' THEN 1 ELSE 0 END) AS community, \
             SUM(CASE WHEN state = 'died' THEN 1 ELSE 0 END) AS died \
             FROM cases WHERE counted_on >= $1 AND counted_on <= $2 AND classification = 'f0' \
             GROUP BY commune_code",
        )
        .bind(from.to_string())
        .bind(to.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    unit(r, "commune_code")?,
                    WeekCounts {
                        community: r.try_get::<Option<i64>, _>("community")?.unwrap_or(0),
                        died: r.try_get::<Option<i64>, _>("died")?.unwrap_or(0),
                    },
                ))
            })
            .collect()
    }

    /// People in the registry per commune, for the communes named (those without an official population).
    pub async fn registry_counts(&self, communes: &[String]) -> Result<HashMap<UnitCode, i64>> {
        let rows = self
            .fetch_in(
                "SELECT commune_code, COUNT(*) AS n FROM residents WHERE commune_code IN ({in}) GROUP BY commune_code",
                communes,
            )
            .await?;
        rows.iter()
            .map(|r| Ok((unit(r, "commune_code")?, r.try_get("n")?)))
            .collect()
    }

    /// The figures in force for `week` per unit: the week's own figure, else (for figures that are not
    /// weekly) the latest earlier week's, else the standing one.
    pub async fn figures_for(
        &self,
        week: IsoWeek,
    ) -> Result<HashMap<UnitCode, BTreeMap<Figure, f64>>> {
        let rows = sqlx::query(
            "SELECT unit_code, figure, period, value FROM unit_figures WHERE period <= $1 ORDER BY period",
        )
        .bind(week.to_string())
        .fetch_all(&self.read)
        .await?;
        let this_week = week.to_string();
        let mut out: HashMap<UnitCode, BTreeMap<Figure, f64>> = HashMap::new();
        for r in &rows {
            let figure: String = r.try_get("figure")?;
            let figure = Figure::parse(&figure).map_err(|e| corrupt("figure", e))?;
            let period: String = r.try_get("period")?;
            if figure.is_weekly() && period != this_week {
                continue;
            }
            // Rows come in order of period ('' first): a later one replaces an earlier one.
            out.entry(unit(r, "unit_code")?)
                .or_default()
                .insert(figure, r.try_get("value")?);
        }
        Ok(out)
    }

    /// Every figure of a unit, newest period first.
    pub async fn unit_figures(&self, unit_code: &UnitCode) -> Result<Vec<FigureRow>> {
        let rows = sqlx::query(
            "SELECT unit_code, figure, period, value, source FROM unit_figures WHERE unit_code = $1 ORDER BY period DESC, figure",
        )
        .bind(unit_code.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(figure_row).collect()
    }

    /// Writes figures (each replaces the same unit, figure and period), in one transaction, audited per unit.
    pub async fn put_figures(&self, rows: &[FigureRow], actor: &str) -> Result<u64> {
        let at = now();
        let mut tx = self.begin_write().await?;
        for f in rows {
            sqlx::query(
                "INSERT INTO unit_figures (unit_code, figure, period, value, source, recorded_by, recorded_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (unit_code, figure, period) DO UPDATE SET \
                 value = excluded.value, source = excluded.source, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
            )
            .bind(f.unit_code.to_string())
            .bind(f.figure.as_str())
            .bind(f.period.map(|w| w.to_string()).unwrap_or_default())
            .bind(f.value)
            .bind(f.source.clone())
            .bind(actor.to_owned())
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        let mut units: Vec<&UnitCode> = rows.iter().map(|f| &f.unit_code).collect();
        units.sort();
        units.dedup();
        for u in units {
            let n = rows.iter().filter(|f| &f.unit_code == u).count();
            insert_audit(
                &mut tx,
                actor,
                "risk.figures",
                &format!("unit:{u}"),
                &format!("{n} figures"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len() as u64)
    }

    /// The capacity checklist in force for `week` per unit: the latest filled in on or before it.
    pub async fn checklists_for(
        &self,
        week: IsoWeek,
    ) -> Result<HashMap<UnitCode, (IsoWeek, BTreeMap<String, bool>)>> {
        let rows = sqlx::query(
            "SELECT unit_code, week, answers FROM capacity_checklists WHERE week <= $1 ORDER BY week",
        )
        .bind(week.to_string())
        .fetch_all(&self.read)
        .await?;
        let mut out = HashMap::new();
        for r in &rows {
            let w: String = r.try_get("week")?;
            let w = IsoWeek::parse(&w).map_err(|e| corrupt("week", e))?;
            let answers: String = r.try_get("answers")?;
            let answers: BTreeMap<String, bool> =
                serde_json::from_str(&answers).map_err(|e| corrupt("answers", e))?;
            out.insert(unit(r, "unit_code")?, (w, answers));
        }
        Ok(out)
    }

    /// Records a unit's checklist for a week (replacing an earlier answer for that week); audited.
    pub async fn put_checklist(
        &self,
        unit_code: &UnitCode,
        week: IsoWeek,
        answers: &BTreeMap<String, bool>,
        actor: &str,
    ) -> Result<()> {
        let json =
            serde_json::to_string(answers).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO capacity_checklists (unit_code, week, answers, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (unit_code, week) DO UPDATE SET answers = excluded.answers, recorded_by = excluded.recorded_by, recorded_at = excluded.recorded_at",
        )
        .bind(unit_code.to_string())
        .bind(week.to_string())
        .bind(json)
        .bind(actor.to_owned())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "risk.checklist",
            &format!("unit:{unit_code}"),
            &format!("week {week}"),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a decision and its levels in one transaction; audited.
    pub async fn record_decision(&self, d: &NewDecision, actor: &str) -> Result<DecisionRecord> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO risk_decisions (number, decided_on, issued_by, effective_from, province_code, recorded_by, recorded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(d.number.clone())
        .bind(d.date.to_string())
        .bind(d.issued_by.clone())
        .bind(d.effective_from.to_string())
        .bind(d.province.to_string())
        .bind(actor.to_owned())
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        crate::db::insert_rows(
            &mut tx,
            self.backend(),
            "risk_decision_levels (decision_id, unit_code, level)",
            3,
            "",
            &d.levels,
            |q, l| {
                q.bind(id)
                    .bind(l.unit.to_string())
                    .bind(i64::from(l.level.get()))
            },
        )
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "risk.decision",
            &format!("unit:{}", d.province),
            &format!("decision {id} {} ({} units)", d.number, d.levels.len()),
        )
        .await?;
        tx.commit().await?;
        self.decision(id)
            .await?
            .ok_or_else(|| StoreError::Failed("the decision vanished".into()))
    }

    pub async fn decision(&self, id: i64) -> Result<Option<DecisionRecord>> {
        let Some(row) = sqlx::query(DECISION_SELECT_ONE)
            .bind(id)
            .fetch_optional(&self.read)
            .await?
        else {
            return Ok(None);
        };
        let levels = sqlx::query("SELECT unit_code, level FROM risk_decision_levels WHERE decision_id = $1 ORDER BY unit_code")
            .bind(id)
            .fetch_all(&self.read)
            .await?;
        let mut d = decision_row(&row)?;
        d.levels = levels
            .iter()
            .map(|r| {
                Ok(DecisionLevel {
                    unit: unit(r, "unit_code")?,
                    level: level(r)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Some(d))
    }

    /// The decisions of a province, newest first, without their levels.
    pub async fn decisions(&self, province: &UnitCode) -> Result<Vec<DecisionRecord>> {
        let rows = sqlx::query(DECISION_SELECT_PROVINCE)
            .bind(province.to_string())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(decision_row).collect()
    }

    /// Attaches (or replaces) a decision's signed PDF; audited.
    pub async fn put_decision_file(
        &self,
        id: i64,
        file_name: &str,
        body: &[u8],
        actor: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM risk_decision_files WHERE decision_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO risk_decision_files (decision_id, file_name, body, uploaded_by, uploaded_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(file_name.to_owned())
        .bind(body.to_vec())
        .bind(actor.to_owned())
        .bind(now())
        .execute(&mut *tx)
        .await?;
        insert_audit(
            &mut tx,
            actor,
            "risk.decision_file",
            &format!("decision:{id}"),
            &format!("{} bytes", body.len()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// A decision's signed PDF: its name and body.
    pub async fn decision_file(&self, id: i64) -> Result<Option<(String, Vec<u8>)>> {
        let row =
            sqlx::query("SELECT file_name, body FROM risk_decision_files WHERE decision_id = $1")
                .bind(id)
                .fetch_optional(&self.read)
                .await?;
        row.map(|r| Ok((r.try_get("file_name")?, r.try_get("body")?)))
            .transpose()
    }

    /// The official level of every unit on `day`: for each, the latest decision effective on or before it
    /// (the later-recorded of two with the same date).
    pub async fn official_levels_on(
        &self,
        day: NaiveDate,
    ) -> Result<HashMap<UnitCode, OfficialLevel>> {
        let rows = sqlx::query(
            "SELECT l.unit_code, l.level, d.id, d.number, d.effective_from FROM risk_decision_levels l \
             JOIN risk_decisions d ON d.id = l.decision_id WHERE d.effective_from <= $1 ORDER BY d.effective_from, d.id",
        )
        .bind(day.to_string())
        .fetch_all(&self.read)
        .await?;
        let mut out = HashMap::new();
        for r in &rows {
            out.insert(unit(r, "unit_code")?, official_row(r)?);
        }
        Ok(out)
    }

    /// Every level a unit was given, newest decision first.
    pub async fn level_history(&self, unit_code: &UnitCode) -> Result<Vec<OfficialLevel>> {
        let rows = sqlx::query(
            "SELECT l.level, d.id, d.number, d.effective_from FROM risk_decision_levels l \
             JOIN risk_decisions d ON d.id = l.decision_id WHERE l.unit_code = $1 ORDER BY d.effective_from DESC, d.id DESC",
        )
        .bind(unit_code.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(official_row).collect()
    }
}

const DECISION_SELECT_ONE: &str = "SELECT d.*, f.file_name, f.uploaded_at, CAST(LENGTH(f.body) AS BIGINT) AS file_bytes FROM risk_decisions d \
     LEFT JOIN risk_decision_files f ON f.decision_id = d.id WHERE d.id = $1";
const DECISION_SELECT_PROVINCE: &str = "SELECT d.*, f.file_name, f.uploaded_at, CAST(LENGTH(f.body) AS BIGINT) AS file_bytes FROM risk_decisions d \
     LEFT JOIN risk_decision_files f ON f.decision_id = d.id WHERE d.province_code = $1 ORDER BY d.effective_from DESC, d.id DESC";

fn decision_row(r: &AnyRow) -> Result<DecisionRecord> {
    let file = match r.try_get::<Option<String>, _>("file_name")? {
        Some(file_name) => Some(DecisionFile {
            file_name,
            bytes: r.try_get::<Option<i64>, _>("file_bytes")?.unwrap_or(0),
            uploaded_at: Instant(r.try_get::<Option<i64>, _>("uploaded_at")?.unwrap_or(0)),
        }),
        None => None,
    };
    Ok(DecisionRecord {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        date: date(r, "decided_on")?,
        issued_by: r.try_get("issued_by")?,
        effective_from: date(r, "effective_from")?,
        province: unit(r, "province_code")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: Instant(r.try_get("recorded_at")?),
        levels: Vec::new(),
        file,
    })
}

fn official_row(r: &AnyRow) -> Result<OfficialLevel> {
    Ok(OfficialLevel {
        level: level(r)?,
        decision_id: r.try_get("id")?,
        decision: r.try_get("number")?,
        effective_from: date(r, "effective_from")?,
    })
}

fn figure_row(r: &AnyRow) -> Result<FigureRow> {
    let figure: String = r.try_get("figure")?;
    let period: String = r.try_get("period")?;
    Ok(FigureRow {
        unit_code: unit(r, "unit_code")?,
        figure: Figure::parse(&figure).map_err(|e| corrupt("figure", e))?,
        period: if period.is_empty() {
            None
        } else {
            Some(IsoWeek::parse(&period).map_err(|e| corrupt("period", e))?)
        },
        value: r.try_get("value")?,
        source: r.try_get("source")?,
    })
}
