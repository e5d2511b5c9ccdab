//! Vaccination records: doses written in bulk (one transaction, multi-row statements), each line answered as
//! inserted, unchanged (the same dose again) or a conflict (the same person, product and date with other
//! details: the stored dose is kept and what differs is said); a person's doses, vaccination states for many
//! people at once, and coverage per commune from the registry and the doses.

use crate::db::{Result, Store, StoreError, fetch_in_on, insert_rows};
use chrono::{Months, NaiveDate};
use kiemdich_domain::{
    CitizenId, Country, Coverage, Dose, DoseContext, DoseFacts, DoseSource, FieldErrors, NewDose,
    RawDose, Rules, Site, UnitCode, VaccinationRules, VaccinationState, VaccineProduct,
    catalogue::Problem,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};
use std::collections::{HashMap, HashSet};

/// What became of one dose of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DoseOutcome {
    /// A new dose, now stored.
    Inserted,
    /// The same dose was already stored (or came earlier in the batch): nothing changed.
    Unchanged,
    /// The same person, product and date is stored with other details: the stored dose is kept.
    Conflict {
        /// The fields that differ (`dose_number`, `series_doses`, `lot`, `site`, `country`).
        differs: Vec<&'static str>,
        stored: Box<Dose>,
    },
}

/// A dose that passed its checks and whose person the registry holds, with the person's home commune (for
/// jurisdiction checks by the caller).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDose {
    pub dose: NewDose,
    pub commune_code: UnitCode,
}

const DOSE_COLS: &str = "doses (citizen_id, product, dose_number, series_doses, date, lot, site_location_id, \
     site_name, site_unit, country, source, recorded_by, recorded_at)";
const DOSE_SELECT: &str = "SELECT d.citizen_id, d.product, d.dose_number, d.series_doses, d.date, d.lot, \
     d.site_location_id, d.site_name, d.site_unit, d.country, d.source, d.recorded_by, d.recorded_at, \
     l.name AS location_name FROM doses d LEFT JOIN locations l ON l.id = d.site_location_id";

/// The columns a site is stored in: location id, facility name, facility unit.
fn site_columns(site: Option<&Site>) -> (Option<i64>, Option<String>, Option<String>) {
    match site {
        None => (None, None, None),
        Some(Site::Location { id }) => (Some(*id), None, None),
        Some(Site::Facility { name, unit }) => (
            None,
            Some(name.clone()),
            unit.as_ref().map(|u| u.as_str().to_owned()),
        ),
    }
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("dose {what}: {e}"))
}

fn dose_from_row(r: &AnyRow) -> Result<Dose> {
    let text = |c: &str| r.try_get::<String, _>(c);
    let small = |c: &str| -> Result<u8> {
        let n: i64 = r.try_get(c)?;
        u8::try_from(n).map_err(|e| corrupt(c, e))
    };
    let location: Option<i64> = r.try_get("site_location_id")?;
    let facility: Option<String> = r.try_get("site_name")?;
    let unit = r
        .try_get::<Option<String>, _>("site_unit")?
        .map(|u| UnitCode::parse(&u).map_err(|e| corrupt("site unit", e)))
        .transpose()?;
    let (site, site_name) = match (location, facility) {
        (Some(id), _) => (
            Some(Site::Location { id }),
            r.try_get::<Option<String>, _>("location_name")?,
        ),
        (None, Some(name)) => (
            Some(Site::Facility {
                name: name.clone(),
                unit,
            }),
            Some(name),
        ),
        (None, None) => (None, None),
    };
    Ok(Dose {
        citizen: CitizenId::parse(&text("citizen_id")?).map_err(|e| corrupt("citizen", e))?,
        product: VaccineProduct::from_mp(&text("product")?).map_err(|e| corrupt("product", e))?,
        dose_number: small("dose_number")?,
        series_doses: small("series_doses")?,
        date: text("date")?.parse().map_err(|e| corrupt("date", e))?,
        lot: r.try_get("lot")?,
        site,
        site_name,
        country: Country::parse(&text("country")?).map_err(|e| corrupt("country", e))?,
        source: DoseSource::parse(&text("source")?).map_err(|e| corrupt("source", e))?,
        recorded_by: text("recorded_by")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

/// A dose as it would read once stored (for comparing a repeat inside one batch).
fn as_stored(d: &NewDose, actor: &str, now: i64) -> Dose {
    Dose {
        citizen: d.citizen,
        product: d.product,
        dose_number: d.dose_number,
        series_doses: d.series_doses,
        date: d.date,
        lot: d.lot.clone(),
        site: d.site.clone(),
        site_name: None,
        country: d.country.clone(),
        source: d.source,
        recorded_by: actor.to_owned(),
        recorded_at: now,
    }
}

type Key = (String, String, String);

fn key_of(d: &NewDose) -> Key {
    (
        d.citizen.as_str().to_owned(),
        d.product.mp().to_owned(),
        d.date.to_string(),
    )
}

impl Store {
    /// Records `doses` in one transaction with multi-row statements (thousands a second), each new dose
    /// audited. The answer has one outcome per dose, in order: a dose whose person, product and date are
    /// already stored is `Unchanged` when identical, else a `Conflict` naming what differs (the stored one
    /// stays); a repeat inside the batch is compared with its first occurrence.
    pub async fn record_doses(&self, doses: &[NewDose], actor: &str) -> Result<Vec<DoseOutcome>> {
        self.write_doses(doses, actor, false).await
    }

    /// Like [`Store::record_doses`], but writes nothing at all when any dose conflicts (a FHIR transaction
    /// Bundle): the outcomes then say what each dose would have been, and no `Inserted` one is stored.
    pub async fn record_doses_all_or_nothing(
        &self,
        doses: &[NewDose],
        actor: &str,
    ) -> Result<Vec<DoseOutcome>> {
        self.write_doses(doses, actor, true).await
    }

    async fn write_doses(
        &self,
        doses: &[NewDose],
        actor: &str,
        all_or_nothing: bool,
    ) -> Result<Vec<DoseOutcome>> {
        let now = crate::db::now();
        let keys: Vec<Key> = doses.iter().map(key_of).collect();
        let mut first: HashMap<&Key, usize> = HashMap::with_capacity(doses.len());
        let mut unique: Vec<&NewDose> = Vec::with_capacity(doses.len());
        for (i, k) in keys.iter().enumerate() {
            if !first.contains_key(k) {
                first.insert(k, i);
                unique.push(&doses[i]);
            }
        }
        let mut tx = self.begin_write().await?;
        let returned = insert_rows(
            &mut tx,
            self.backend(),
            DOSE_COLS,
            13,
            "ON CONFLICT (citizen_id, product, date) DO NOTHING RETURNING citizen_id, product, date",
            &unique,
            |q, d| {
                let (location, facility, unit) = site_columns(d.site.as_ref());
                q.bind(d.citizen.as_str().to_owned())
                    .bind(d.product.mp())
                    .bind(i64::from(d.dose_number))
                    .bind(i64::from(d.series_doses))
                    .bind(d.date.to_string())
                    .bind(d.lot.clone())
                    .bind(location)
                    .bind(facility)
                    .bind(unit)
                    .bind(d.country.as_str().to_owned())
                    .bind(d.source.as_str())
                    .bind(actor.to_owned())
                    .bind(now)
            },
        )
        .await?;
        let inserted: HashSet<Key> = returned
            .iter()
            .map(|r| -> Result<Key> {
                Ok((
                    r.try_get("citizen_id")?,
                    r.try_get("product")?,
                    r.try_get("date")?,
                ))
            })
            .collect::<Result<_>>()?;
        // The doses already stored under the keys that were not inserted.
        let mut stale: Vec<String> = unique
            .iter()
            .filter(|d| !inserted.contains(&key_of(d)))
            .map(|d| d.citizen.as_str().to_owned())
            .collect();
        stale.sort_unstable();
        stale.dedup();
        let mut stored: HashMap<Key, Dose> = HashMap::new();
        if !stale.is_empty() {
            let sql = format!("{DOSE_SELECT} WHERE d.citizen_id IN ({{in}})");
            for row in fetch_in_on(&mut tx, self.backend(), &sql, &stale).await? {
                let dose = dose_from_row(&row)?;
                stored.insert(
                    (
                        dose.citizen.as_str().to_owned(),
                        dose.product.mp().to_owned(),
                        dose.date.to_string(),
                    ),
                    dose,
                );
            }
        }
        let mut audits: Vec<(String, String)> = Vec::new();
        let mut out = Vec::with_capacity(doses.len());
        for (i, (d, k)) in doses.iter().zip(&keys).enumerate() {
            let earlier = first.get(k).copied().unwrap_or(i);
            let against = if inserted.contains(k) {
                if earlier == i {
                    audits.push((
                        format!("citizen:{}", d.citizen),
                        format!(
                            "{} dose {}/{} {} ({})",
                            d.product.mp(),
                            d.dose_number,
                            d.series_doses,
                            d.date,
                            d.source.as_str()
                        ),
                    ));
                    out.push(DoseOutcome::Inserted);
                    continue;
                }
                as_stored(&doses[earlier], actor, now)
            } else {
                stored.get(k).cloned().ok_or_else(|| {
                    StoreError::Failed(format!("dose {k:?} was neither inserted nor found stored"))
                })?
            };
            let differs = d.differences(&against);
            out.push(if differs.is_empty() {
                DoseOutcome::Unchanged
            } else {
                DoseOutcome::Conflict {
                    differs,
                    stored: Box::new(against),
                }
            });
        }
        if all_or_nothing
            && out
                .iter()
                .any(|o| matches!(o, DoseOutcome::Conflict { .. }))
        {
            tx.rollback().await?;
            return Ok(out);
        }
        insert_rows(
            &mut tx,
            self.backend(),
            "audit_log (at, actor, action, subject, detail)",
            5,
            "",
            &audits,
            |q, (subject, detail)| {
                q.bind(now)
                    .bind(actor.to_owned())
                    .bind("vaccination.record")
                    .bind(subject.as_str())
                    .bind(detail.as_str())
            },
        )
        .await?;
        tx.commit().await?;
        self.touch_holders(doses.iter().map(|d| &d.citizen));
        Ok(out)
    }

    /// Checks raw doses against themselves, the rules and the registry: the person must be registered (their
    /// birth date bounds the dose date), a `location_id` must name a location, and a `site` that is exactly
    /// the name of a location becomes that location (the one in the person's commune when several share it).
    /// One answer per raw dose, in order; nothing is written.
    pub async fn check_doses(
        &self,
        raws: &[RawDose],
        source: DoseSource,
        rules: &Rules,
        today: NaiveDate,
    ) -> Result<Vec<std::result::Result<CheckedDose, FieldErrors>>> {
        let mut ids: Vec<String> = raws
            .iter()
            .filter_map(|r| CitizenId::parse(&r.citizen_id).ok())
            .map(|c| c.as_str().to_owned())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let people: HashMap<String, (NaiveDate, UnitCode)> = self
            .fetch_in(
                "SELECT citizen_id, date_of_birth, commune_code FROM residents WHERE citizen_id IN ({in})",
                &ids,
            )
            .await?
            .iter()
            .map(|r| -> Result<(String, (NaiveDate, UnitCode))> {
                let born: String = r.try_get("date_of_birth")?;
                let commune: String = r.try_get("commune_code")?;
                Ok((
                    r.try_get("citizen_id")?,
                    (
                        born.parse()
                            .map_err(|e| StoreError::Corrupt(format!("birth date: {e}")))?,
                        UnitCode::parse(&commune)
                            .map_err(|e| StoreError::Corrupt(format!("commune: {e}")))?,
                    ),
                ))
            })
            .collect::<Result<_>>()?;
        let mut names: Vec<String> = raws
            .iter()
            .filter(|r| r.location_id.is_none() && !r.site.trim().is_empty())
            .map(|r| r.site.trim().to_owned())
            .collect();
        names.sort_unstable();
        names.dedup();
        let mut by_name: HashMap<String, Vec<(i64, String)>> = HashMap::new();
        for r in self
            .fetch_in(
                "SELECT id, name, commune_code FROM locations WHERE name IN ({in})",
                &names,
            )
            .await?
        {
            by_name
                .entry(r.try_get("name")?)
                .or_default()
                .push((r.try_get("id")?, r.try_get("commune_code")?));
        }
        let mut wanted: Vec<String> = raws
            .iter()
            .filter_map(|r| r.location_id.map(|id| id.to_string()))
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        let known_locations: HashSet<i64> = if wanted.is_empty() {
            HashSet::new()
        } else {
            // Ids are numbers we parsed: inlined, as a list of integers.
            let sql = format!(
                "SELECT id FROM locations WHERE id IN ({})",
                wanted.join(",")
            );
            sqlx::query(AssertSqlSafe(sql))
                .fetch_all(&self.read)
                .await?
                .iter()
                .map(|r| r.try_get("id"))
                .collect::<std::result::Result<_, _>>()?
        };
        let dates = rules.dates_at(rules.tracing.day_start(today));
        let out = raws
            .iter()
            .map(|raw| {
                let person = CitizenId::parse(&raw.citizen_id)
                    .ok()
                    .and_then(|c| people.get(c.as_str()));
                let mut raw = raw.clone();
                if raw.location_id.is_none()
                    && let Some(found) = by_name.get(raw.site.trim())
                {
                    let home = person.map(|(_, c)| c.as_str());
                    let pick = found
                        .iter()
                        .find(|(_, c)| Some(c.as_str()) == home)
                        .or_else(|| (found.len() == 1).then(|| &found[0]));
                    if let Some((id, _)) = pick {
                        raw.location_id = Some(*id);
                    }
                }
                let ctx = DoseContext {
                    dates,
                    rules: &rules.vaccination,
                    born: person.map(|(b, _)| *b),
                };
                let parsed = NewDose::parse(&raw, source, &ctx);
                let mut errs = match &parsed {
                    Ok(_) => FieldErrors::default(),
                    Err(e) => e.clone(),
                };
                if let Some(id) = raw.location_id
                    && id > 0
                    && !known_locations.contains(&id)
                {
                    errs.push_as("location_id", Problem::Invalid, format!("no location {id}"));
                }
                if person.is_none() && CitizenId::parse(&raw.citizen_id).is_ok() {
                    errs.push_as(
                        "citizen_id",
                        Problem::NotInRegistry,
                        format!(
                            "{} is not in the population registry",
                            raw.citizen_id.trim()
                        ),
                    );
                }
                match (parsed, person) {
                    (Ok(dose), Some((_, commune))) if errs.is_empty() => Ok(CheckedDose {
                        dose,
                        commune_code: commune.clone(),
                    }),
                    _ => Err(errs),
                }
            })
            .collect();
        Ok(out)
    }

    /// A person's doses, oldest first.
    pub async fn doses_of(&self, citizen: &CitizenId) -> Result<Vec<Dose>> {
        let sql = format!("{DOSE_SELECT} WHERE d.citizen_id = $1 ORDER BY d.date, d.id");
        sqlx::query(AssertSqlSafe(sql))
            .bind(citizen.as_str().to_owned())
            .fetch_all(&self.read)
            .await?
            .iter()
            .map(dose_from_row)
            .collect()
    }

    /// The doses of many people, each person's oldest first; people without doses are absent.
    pub async fn doses_of_many(
        &self,
        citizens: &[CitizenId],
    ) -> Result<HashMap<CitizenId, Vec<Dose>>> {
        let ids: Vec<String> = citizens.iter().map(|c| c.as_str().to_owned()).collect();
        let sql = format!("{DOSE_SELECT} WHERE d.citizen_id IN ({{in}})");
        let mut out: HashMap<CitizenId, Vec<Dose>> = HashMap::new();
        for row in self.fetch_in(&sql, &ids).await? {
            let d = dose_from_row(&row)?;
            out.entry(d.citizen).or_default().push(d);
        }
        out.values_mut().for_each(|v| v.sort_by_key(|d| d.date));
        Ok(out)
    }

    /// The vaccination state on `as_of` of each of `citizens` (every one of them, unvaccinated included), in
    /// one read of their doses.
    pub async fn vaccination_states(
        &self,
        citizens: &[CitizenId],
        rules: &VaccinationRules,
        as_of: NaiveDate,
    ) -> Result<HashMap<CitizenId, VaccinationState>> {
        let ids: Vec<String> = citizens.iter().map(|c| c.as_str().to_owned()).collect();
        let mut facts: HashMap<CitizenId, Vec<DoseFacts>> = HashMap::new();
        for r in self
            .fetch_in(
                "SELECT citizen_id, date, dose_number, series_doses FROM doses WHERE citizen_id IN ({in})",
                &ids,
            )
            .await?
        {
            let citizen = CitizenId::parse(&r.try_get::<String, _>("citizen_id")?)
                .map_err(|e| corrupt("citizen", e))?;
            let small = |c: &str| -> Result<u8> {
                u8::try_from(r.try_get::<i64, _>(c)?).map_err(|e| corrupt(c, e))
            };
            facts.entry(citizen).or_default().push(DoseFacts {
                date: r
                    .try_get::<String, _>("date")?
                    .parse()
                    .map_err(|e| corrupt("date", e))?,
                dose_number: small("dose_number")?,
                series_doses: small("series_doses")?,
            });
        }
        Ok(citizens
            .iter()
            .map(|c| {
                let doses = facts.remove(c).unwrap_or_default();
                (*c, VaccinationState::of(doses, rules, as_of))
            })
            .collect())
    }

    /// One person's vaccination state on `as_of`.
    pub async fn vaccination_state(
        &self,
        citizen: &CitizenId,
        rules: &VaccinationRules,
        as_of: NaiveDate,
    ) -> Result<VaccinationState> {
        let mut states = self.vaccination_states(&[*citizen], rules, as_of).await?;
        Ok(states
            .remove(citizen)
            .unwrap_or_else(|| VaccinationState::of([], rules, as_of)))
    }

    /// Coverage on `as_of` of each of `communes` that has registered people: people, adults and the older
    /// group from the registry (age on `as_of`), those with a first dose and those fully vaccinated (series
    /// completed at least the rules' days before) from the doses given up to `as_of`.
    pub async fn coverage(
        &self,
        communes: &[String],
        rules: &VaccinationRules,
        as_of: NaiveDate,
    ) -> Result<HashMap<String, Coverage>> {
        let born_by = |age: u32| {
            as_of
                .checked_sub_months(Months::new(age * 12))
                .unwrap_or(NaiveDate::MIN)
                .to_string()
        };
        let adult = born_by(rules.adult_age);
        let older = born_by(rules.older_age);
        let full_by = (as_of
            - chrono::Duration::days(i64::from(rules.fully_vaccinated_after_days)))
        .to_string();
        // The dates are ISO text we made from NaiveDate values, not input: inlined, because `fetch_in` binds
        // only the list.
        let sql = format!(
            "SELECT commune_code, COUNT(*) AS people, \
             SUM(CASE WHEN first_date IS NOT NULL THEN 1 ELSE 0 END) AS one_dose, \
             SUM(CASE WHEN date_of_birth <= '{adult}' THEN 1 ELSE 0 END) AS adults, \
             SUM(CASE WHEN date_of_birth <= '{adult}' AND first_date IS NOT NULL THEN 1 ELSE 0 END) AS adults_one, \
             SUM(CASE WHEN done_date <= '{full_by}' THEN 1 ELSE 0 END) AS full_all, \
             SUM(CASE WHEN date_of_birth <= '{older}' THEN 1 ELSE 0 END) AS older, \
             SUM(CASE WHEN date_of_birth <= '{older}' AND done_date <= '{full_by}' THEN 1 ELSE 0 END) AS older_full \
             FROM (SELECT r.commune_code, r.date_of_birth, MIN(d.date) AS first_date, \
                   MIN(CASE WHEN d.dose_number >= d.series_doses THEN d.date END) AS done_date \
                   FROM residents r LEFT JOIN doses d ON d.citizen_id = r.citizen_id AND d.date <= '{as_of}' \
                   WHERE r.commune_code IN ({{in}}) \
                   GROUP BY r.citizen_id, r.commune_code, r.date_of_birth) p \
             GROUP BY commune_code"
        );
        let count = |r: &AnyRow, c: &str| -> Result<u64> {
            let n: Option<i64> = r.try_get(c)?;
            Ok(u64::try_from(n.unwrap_or(0)).unwrap_or(0))
        };
        self.fetch_in(&sql, communes)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("commune_code")?,
                    Coverage {
                        people: count(r, "people")?,
                        one_dose: count(r, "one_dose")?,
                        fully_vaccinated: count(r, "full_all")?,
                        adults: count(r, "adults")?,
                        adults_one_dose: count(r, "adults_one")?,
                        older: count(r, "older")?,
                        older_fully_vaccinated: count(r, "older_full")?,
                    },
                ))
            })
            .collect()
    }
}
