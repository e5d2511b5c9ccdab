//! Daily health updates and their effects, and a person's history as the health book reads it. Storing an
//! update does, in the same transaction: the day's follow-up of a person in isolation or quarantine (channel
//! `self_report`, unless staff already recorded one), revoking the live green pass of a person who now reports
//! symptoms (as opening a case revokes), the notices the service built (the health station when urgent), and
//! the audit row.

use crate::CaseRecord;
use crate::access::insert_audit;
use crate::cases::case_from_row;
use crate::db::{Result, Store, StoreError};
use crate::declarations::{Notice, PassRecord, enqueue, pass_from_row};
use crate::declaring::revoke_live_passes;
use chrono::NaiveDate;
use kiemdich_domain::declaration::RawPerson;
use kiemdich_domain::{
    CitizenId, Exposure, FollowUpChannel, FollowUpOutcome, HealthStatus, HealthUpdate, Instant,
    Symptom,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

/// The reason a pass revoked by a health update carries.
pub const REVOKED_FOR_SYMPTOMS: &str = "health_update:symptoms";

/// An update to store, with what the service decided of it.
#[derive(Debug, Clone)]
pub struct NewHealthUpdate {
    pub citizen_id: CitizenId,
    /// The person's registry commune: its staff follow them up.
    pub commune_code: String,
    /// The Vietnam date of `at`.
    pub day: NaiveDate,
    pub at: i64,
    pub update: HealthUpdate,
    pub urgent: bool,
    /// The audit actor (`citizen:…`, `staff:…`).
    pub entered_by: String,
    /// Messages to queue (the health station and the commune when urgent), in the catalogue's words.
    pub notices: Vec<Notice>,
}

/// What storing an update did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UpdateStored {
    pub id: i64,
    /// The case whose follow-up for the day this update recorded, if any.
    pub follow_up_case: Option<i64>,
    /// Passes revoked because a green person reported symptoms.
    pub revoked_passes: Vec<String>,
}

/// An update as stored, parsed when read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthUpdateRecord {
    pub id: i64,
    pub citizen_id: CitizenId,
    pub commune_code: String,
    pub day: NaiveDate,
    pub at: Instant,
    pub temperature_c: Option<f32>,
    pub spo2: Option<u8>,
    pub symptoms: Vec<Symptom>,
    pub note: Option<String>,
    pub urgent: bool,
    pub entered_by: String,
}

fn update_from_row(r: &AnyRow) -> Result<HealthUpdateRecord> {
    let id: i64 = r.try_get("id")?;
    let bad =
        |what: &str, e: String| StoreError::Corrupt(format!("health update {id}: {what}: {e}"));
    let symptoms: String = r.try_get("symptoms")?;
    let tenths: Option<i64> = r.try_get("temperature_tenths")?;
    let spo2: Option<i64> = r.try_get("spo2")?;
    Ok(HealthUpdateRecord {
        id,
        citizen_id: CitizenId::parse(&r.try_get::<String, _>("citizen_id")?)
            .map_err(|e| bad("citizen_id", e.to_string()))?,
        commune_code: r.try_get("commune_code")?,
        day: r
            .try_get::<String, _>("day")?
            .parse()
            .map_err(|e: chrono::ParseError| bad("day", e.to_string()))?,
        at: Instant(r.try_get("at")?),
        temperature_c: tenths
            .map(|t| i16::try_from(t).map(|t| f32::from(t) / 10.0))
            .transpose()
            .map_err(|e| bad("temperature", e.to_string()))?,
        spo2: spo2
            .map(u8::try_from)
            .transpose()
            .map_err(|e| bad("spo2", e.to_string()))?,
        symptoms: symptoms
            .split(',')
            .filter(|s| !s.is_empty())
            .map(|s| Symptom::parse(s).map_err(|e| bad("symptoms", e)))
            .collect::<Result<_>>()?,
        note: r.try_get("note")?,
        urgent: r.try_get::<i64, _>("urgent")? == 1,
        entered_by: r.try_get("entered_by")?,
    })
}

/// One person's part of a declaration, as the health book lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeclarationLine {
    pub declaration_id: i64,
    pub submitted_at: Instant,
    pub status: HealthStatus,
    pub symptoms: Vec<Symptom>,
    pub exposures: Vec<Exposure>,
    pub pass_id: Option<String>,
}

/// A day's check on one of the person's cases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowUpLine {
    pub case_id: i64,
    pub day: NaiveDate,
    pub outcome: FollowUpOutcome,
    pub channel: FollowUpChannel,
    pub note: String,
    pub recorded_by: String,
}

/// The stored declaration as the health book needs it: its people's symptoms and exposures.
#[derive(Deserialize)]
struct StoredForm {
    form: Form,
}

#[derive(Deserialize)]
struct Form {
    #[serde(default)]
    people: Vec<RawPerson>,
}

impl Store {
    /// Stores one update with its effects, in one transaction.
    pub async fn record_health_update(&self, u: &NewHealthUpdate) -> Result<UpdateStored> {
        let mut tx = self.begin_write().await?;
        let symptoms: Vec<&str> = u.update.symptoms.iter().map(|s| s.as_str()).collect();
        let tenths = u
            .update
            .temperature_c
            .map(|t| (f64::from(t) * 10.0).round() as i64);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO health_updates (citizen_id, commune_code, day, temperature_tenths, spo2, symptoms, note, urgent, entered_by, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(u.citizen_id.to_string())
        .bind(u.commune_code.clone())
        .bind(u.day.to_string())
        .bind(tenths)
        .bind(u.update.spo2.map(i64::from))
        .bind(symptoms.join(","))
        .bind(u.update.note.clone())
        .bind(i64::from(u.urgent))
        .bind(u.entered_by.clone())
        .bind(u.at)
        .fetch_one(&mut *tx)
        .await?;

        // The day's follow-up of an isolating case or a quarantined F1; a check staff already recorded stays.
        let case: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM cases WHERE citizen_id = $1 AND active = 1 AND (classification IN ('f0', 'suspected') \
             OR (classification = 'f1' AND quarantine_until >= $2)) ORDER BY id DESC LIMIT 1",
        )
        .bind(u.citizen_id.to_string())
        .bind(u.day.to_string())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(case_id) = case {
            let outcome = if u.update.symptoms.is_empty() && !u.urgent {
                FollowUpOutcome::Well
            } else {
                FollowUpOutcome::Symptoms
            };
            sqlx::query(
                "INSERT INTO follow_ups (case_id, day, outcome, channel, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (case_id, day) DO NOTHING",
            )
            .bind(case_id)
            .bind(u.day.to_string())
            .bind(outcome.as_str())
            .bind(FollowUpChannel::SelfReport.as_str())
            .bind(u.update.note.clone().unwrap_or_default())
            .bind(u.entered_by.clone())
            .bind(u.at)
            .execute(&mut *tx)
            .await?;
        }

        // New symptoms from a green person make them yellow, as a declaration with symptoms does
        // (`HealthStatus::from_reported`); their live green pass is revoked at once, as opening a case does.
        let reported = HealthStatus::from_reported(&u.update.symptoms, &[]);
        let live_green: Option<String> = sqlx::query_scalar(
            "SELECT id FROM passes WHERE citizen_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND status = 'green' LIMIT 1",
        )
        .bind(u.citizen_id.to_string())
        .bind(u.at)
        .fetch_optional(&mut *tx)
        .await?;
        let revoked = if reported > HealthStatus::Green && live_green.is_some() {
            // The samples branch orders a test here (a suspected person's PCR).
            revoke_live_passes(
                &mut tx,
                self.backend(),
                &[u.citizen_id.as_str()],
                REVOKED_FOR_SYMPTOMS,
                u.at,
            )
            .await?
        } else {
            Vec::new()
        };
        for n in &u.notices {
            enqueue(&mut tx, n, false, u.at).await?;
        }
        insert_audit(
            &mut tx,
            &u.entered_by,
            "health_update.create",
            &format!("citizen:{}", u.citizen_id),
            &format!("update {id}{}", if u.urgent { " urgent" } else { "" }),
        )
        .await?;
        tx.commit().await?;
        self.touch_holders([&u.citizen_id]);
        Ok(UpdateStored {
            id,
            follow_up_case: case,
            revoked_passes: revoked,
        })
    }

    /// A person's updates since `from`, newest first.
    pub async fn health_updates_of(
        &self,
        citizen: &CitizenId,
        from: i64,
    ) -> Result<Vec<HealthUpdateRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM health_updates WHERE citizen_id = $1 AND at >= $2 ORDER BY at DESC, id DESC",
        )
        .bind(citizen.to_string())
        .bind(from)
        .fetch_all(&self.read)
        .await?;
        rows.iter().map(update_from_row).collect()
    }

    /// Urgent updates of `day` from people of `communes`, newest first: the top of the health overview.
    pub async fn urgent_updates(
        &self,
        communes: &[String],
        day: NaiveDate,
    ) -> Result<Vec<HealthUpdateRecord>> {
        let mut out = Vec::new();
        for chunk in communes.chunks(500) {
            let p = crate::db::list_placeholders(self.backend(), chunk.len() + 1);
            let sql = format!(
                "SELECT * FROM health_updates WHERE day = {} AND urgent = 1 AND commune_code IN ({}) ORDER BY at DESC, id DESC",
                p[0],
                p[1..].join(",")
            );
            let q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(day.to_string());
            let rows = chunk
                .iter()
                .fold(q, |q, c| q.bind(c.as_str()))
                .fetch_all(&self.read)
                .await?;
            for r in &rows {
                out.push(update_from_row(r)?);
            }
        }
        out.sort_by(|a, b| b.at.0.cmp(&a.at.0).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    /// Every pass issued to a person, newest first.
    pub async fn passes_of(&self, citizen: &CitizenId) -> Result<Vec<PassRecord>> {
        let rows =
            sqlx::query("SELECT * FROM passes WHERE citizen_id = $1 ORDER BY issued_at DESC, id")
                .bind(citizen.to_string())
                .fetch_all(&self.read)
                .await?;
        rows.iter().map(pass_from_row).collect()
    }

    /// A person's part of every declaration naming them, newest first, with what they declared.
    pub async fn declarations_of(&self, citizen: &CitizenId) -> Result<Vec<DeclarationLine>> {
        let rows = sqlx::query(
            "SELECT dp.declaration_id, dp.idx, dp.status, dp.pass_id, d.submitted_at, d.body FROM declaration_people dp \
             JOIN declarations d ON d.id = dp.declaration_id WHERE dp.citizen_id = $1 ORDER BY dp.declaration_id DESC",
        )
        .bind(citizen.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("declaration_id")?;
                let bad = |what: &str, e: String| {
                    StoreError::Corrupt(format!("declaration {id}: {what}: {e}"))
                };
                let idx = usize::try_from(r.try_get::<i64, _>("idx")?)
                    .map_err(|e| bad("idx", e.to_string()))?;
                let body: String = r.try_get("body")?;
                let stored: StoredForm =
                    serde_json::from_str(&body).map_err(|e| bad("body", e.to_string()))?;
                let person = stored.form.people.get(idx);
                Ok(DeclarationLine {
                    declaration_id: id,
                    submitted_at: Instant(r.try_get("submitted_at")?),
                    status: HealthStatus::parse(&r.try_get::<String, _>("status")?)
                        .map_err(|e| bad("status", e))?,
                    symptoms: person
                        .map_or(&[][..], |p| p.symptoms.as_slice())
                        .iter()
                        .map(|s| Symptom::parse(s).map_err(|e| bad("symptoms", e)))
                        .collect::<Result<_>>()?,
                    exposures: person
                        .map_or(&[][..], |p| p.exposures.as_slice())
                        .iter()
                        .map(|s| Exposure::parse(s).map_err(|e| bad("exposures", e)))
                        .collect::<Result<_>>()?,
                    pass_id: r.try_get("pass_id")?,
                })
            })
            .collect()
    }

    /// Every case of a person, newest first (released ones too).
    pub async fn cases_of(&self, citizen: &CitizenId) -> Result<Vec<CaseRecord>> {
        let rows = sqlx::query("SELECT * FROM cases WHERE citizen_id = $1 ORDER BY id DESC")
            .bind(citizen.to_string())
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Every day's check on any of a person's cases, newest first.
    pub async fn follow_ups_of(&self, citizen: &CitizenId) -> Result<Vec<FollowUpLine>> {
        let rows = sqlx::query(
            "SELECT f.case_id, f.day, f.outcome, f.channel, f.note, f.recorded_by FROM follow_ups f \
             JOIN cases c ON c.id = f.case_id WHERE c.citizen_id = $1 ORDER BY f.day DESC, f.case_id DESC",
        )
        .bind(citizen.to_string())
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|r| {
                let case_id: i64 = r.try_get("case_id")?;
                let bad = |what: &str, e: String| {
                    StoreError::Corrupt(format!("follow-up of case {case_id}: {what}: {e}"))
                };
                Ok(FollowUpLine {
                    case_id,
                    day: r
                        .try_get::<String, _>("day")?
                        .parse()
                        .map_err(|e: chrono::ParseError| bad("day", e.to_string()))?,
                    outcome: FollowUpOutcome::parse(&r.try_get::<String, _>("outcome")?)
                        .map_err(|e| bad("outcome", e))?,
                    channel: FollowUpChannel::parse(&r.try_get::<String, _>("channel")?)
                        .map_err(|e| bad("channel", e))?,
                    note: r.try_get("note")?,
                    recorded_by: r.try_get("recorded_by")?,
                })
            })
            .collect()
    }
}
