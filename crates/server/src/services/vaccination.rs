//! Vaccination records as staff and residents see them: a person's doses (audited reads inside the caller's
//! jurisdiction), recording one dose (201 new, 200 the same dose again, 409 a different dose on the same day of
//! the same product, 422 field errors), the signed-in resident's own doses, and vaccination states for other
//! services (F1 quarantine, passes, checkpoints).

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use chrono::NaiveDate;
use kiemdich_domain::catalogue::{Lang, Problem};
use kiemdich_domain::{
    CitizenId, Dose, DoseSource, FieldErrors, Instant, RawDose, RegistryRecord, Site,
    VaccinationState, VaccineProduct,
};
use kiemdich_store::{DoseOutcome, Principal, Role};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Who may read a person's doses (inside their jurisdiction).
pub const READERS: &[Role] = &[Role::Health, Role::Officer, Role::Vaccinator, Role::Admin];
/// Who may record a dose (inside their jurisdiction).
pub const WRITERS: &[Role] = &[Role::Health, Role::Vaccinator, Role::Admin];

/// A dose as the API answers it: the seven fields every client reads (`product`, `dose_number`,
/// `series_doses`, `date`, `lot`, `site`, `country`), then names and provenance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoseView {
    /// The EU `mp` code.
    pub product: String,
    pub dose_number: u8,
    pub series_doses: u8,
    pub date: NaiveDate,
    pub lot: Option<String>,
    /// The site as it reads: the location's or the facility's name.
    pub site: Option<String>,
    /// ISO 3166 alpha-2.
    pub country: String,
    /// The name people know the product by, in the caller's language.
    pub product_name: String,
    pub ma: String,
    pub vp: String,
    pub site_location_id: Option<i64>,
    pub source: DoseSource,
    pub recorded_at: Instant,
}

impl DoseView {
    pub fn of(d: &Dose, lang: Lang) -> DoseView {
        DoseView {
            product: d.product.mp().to_owned(),
            dose_number: d.dose_number,
            series_doses: d.series_doses,
            date: d.date,
            lot: d.lot.clone(),
            site: d.site_name.clone(),
            country: d.country.as_str().to_owned(),
            product_name: d.product.name(lang).to_owned(),
            ma: d.product.ma().to_owned(),
            vp: d.product.vp().to_owned(),
            site_location_id: match d.site {
                Some(Site::Location { id }) => Some(id),
                _ => None,
            },
            source: d.source,
            recorded_at: Instant(d.recorded_at),
        }
    }
}

/// A dose to record for the person the path names. `product` is an EU `mp` code or a name used in Vietnam;
/// the site is a `location_id` (a health location of the jurisdiction) or a facility named in `site`
/// (with `site_unit`, the unit it lies in, when known); `series_doses` defaults to the product's series and
/// `country` to VN.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoseInput {
    pub product: String,
    pub dose_number: Option<i64>,
    pub series_doses: Option<i64>,
    pub date: String,
    pub lot: Option<String>,
    pub site: Option<String>,
    pub location_id: Option<i64>,
    pub site_unit: Option<String>,
    pub country: Option<String>,
}

impl DoseInput {
    fn raw(&self, citizen: &CitizenId) -> RawDose {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let number = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
        RawDose {
            citizen_id: citizen.as_str().to_owned(),
            product: self.product.clone(),
            dose_number: number(self.dose_number),
            series_doses: number(self.series_doses),
            date: self.date.clone(),
            lot: text(&self.lot),
            site: text(&self.site),
            country: text(&self.country),
            location_id: self.location_id,
            site_unit: text(&self.site_unit),
        }
    }
}

/// What recording one dose did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Created,
    Unchanged,
}

/// Today in the rules' time zone.
pub fn today(st: &AppState) -> NaiveDate {
    st.rules.tracing.local_date(chrono::Utc::now().timestamp())
}

/// The registry record of `citizen` if it lies inside the caller's jurisdiction (by the person's registry
/// commune); 404 alike when unknown or outside, 422 for a malformed id.
pub async fn person_in_reach(
    st: &AppState,
    who: &Principal,
    citizen: &str,
) -> ApiResult<RegistryRecord> {
    let id = CitizenId::parse(citizen).map_err(|e| ApiError::field("citizen_id", e))?;
    let found = st.store.resident(&id).await?;
    st.in_reach_or_404(
        who,
        found,
        |r| r.commune_code.as_str(),
        format!("{id} is not in the registry of your jurisdiction"),
    )
}

/// A person's doses, oldest first (health, officer, vaccinator, admin inside their jurisdiction); audited.
pub async fn doses_of(
    st: &AppState,
    who: &Principal,
    citizen: &str,
    lang: Lang,
) -> ApiResult<Vec<DoseView>> {
    crate::auth::require_role(who, READERS)?;
    let person = person_in_reach(st, who, citizen).await?;
    let doses = st.store.doses_of(&person.citizen_id).await?;
    st.store
        .audit(
            &who.actor,
            "vaccination.read",
            &format!("citizen:{}", person.citizen_id),
            "",
        )
        .await?;
    Ok(doses.iter().map(|d| DoseView::of(d, lang)).collect())
}

/// The signed-in resident's own doses; audited.
pub async fn my_doses(st: &AppState, who: &Principal, lang: Lang) -> ApiResult<Vec<DoseView>> {
    let id = crate::services::resident::resident_of(who)?;
    let doses = st.store.doses_of(&id).await?;
    st.store
        .audit(
            &who.actor,
            "vaccination.read.own",
            &format!("citizen:{id}"),
            "",
        )
        .await?;
    Ok(doses.iter().map(|d| DoseView::of(d, lang)).collect())
}

/// Records one dose for a person of the caller's jurisdiction (health, vaccinator, admin). A location site must
/// lie inside the jurisdiction too. The same dose again changes nothing ([`Recorded::Unchanged`]); the same
/// person, product and date with other details is refused (409) naming each field that differs.
pub async fn record_dose(
    st: &AppState,
    who: &Principal,
    citizen: &str,
    input: &DoseInput,
    lang: Lang,
) -> ApiResult<(Recorded, DoseView)> {
    crate::auth::require_role(who, WRITERS)?;
    let person = person_in_reach(st, who, citizen).await?;
    let raw = input.raw(&person.citizen_id);
    let mut checked = st
        .store
        .check_doses(&[raw], DoseSource::Entered, &st.rules, today(st))
        .await?;
    let dose = match checked.pop() {
        Some(Ok(c)) => c.dose,
        Some(Err(errs)) => return Err(ApiError::invalid(errs)),
        None => return Err(ApiError::internal("no answer for one dose")),
    };
    if let Some(Site::Location { id }) = dose.site {
        let location = st.store.location(id).await?;
        if !location.is_some_and(|l| st.reaches(who, &l.commune_code)) {
            return Err(ApiError::field_as(
                "location_id",
                Problem::OutsideJurisdiction,
                format!("location {id} is outside your jurisdiction"),
            ));
        }
    }
    if let Some(Site::Facility { unit: Some(u), .. }) = &dose.site {
        st.check_jurisdiction(who, u)?;
    }
    let outcome = st
        .store
        .record_doses(std::slice::from_ref(&dose), &who.actor)
        .await?
        .pop();
    let recorded = match outcome {
        Some(DoseOutcome::Inserted) => Recorded::Created,
        Some(DoseOutcome::Unchanged) => Recorded::Unchanged,
        Some(DoseOutcome::Conflict { differs, stored }) => {
            return Err(conflict(&dose, &differs, &stored));
        }
        None => return Err(ApiError::internal("no outcome for one dose")),
    };
    // Read back, so that the answer shows the site's name as stored.
    let stored = st.store.doses_of(&dose.citizen).await?;
    let view = stored
        .iter()
        .find(|d| d.product == dose.product && d.date == dose.date)
        .map(|d| DoseView::of(d, lang))
        .ok_or_else(|| ApiError::internal("recorded dose not found"))?;
    Ok((recorded, view))
}

/// A 409 naming each field in which the dose sent differs from the one stored for the same day and product.
fn conflict(sent: &kiemdich_domain::NewDose, differs: &[&str], stored: &Dose) -> ApiError {
    let mut fields = FieldErrors::default();
    let show_site = |s: &Option<Site>, name: &Option<String>| match (s, name) {
        (_, Some(n)) => n.clone(),
        (Some(Site::Location { id }), None) => format!("location {id}"),
        _ => "none".into(),
    };
    for f in differs {
        let (was, now) = match *f {
            "dose_number" => (stored.dose_number.to_string(), sent.dose_number.to_string()),
            "series_doses" => (
                stored.series_doses.to_string(),
                sent.series_doses.to_string(),
            ),
            "lot" => (
                stored.lot.clone().unwrap_or_default(),
                sent.lot.clone().unwrap_or_default(),
            ),
            "site" => (
                show_site(&stored.site, &stored.site_name),
                show_site(&sent.site, &None),
            ),
            _ => (
                stored.country.as_str().to_owned(),
                sent.country.as_str().to_owned(),
            ),
        };
        fields.push_as(
            *f,
            Problem::DiffersFromStored,
            format!("stored {was:?}, sent {now:?}"),
        );
    }
    ApiError {
        fields,
        ..ApiError::conflict(format!(
            "a dose of {} on {} is already recorded for {} with another {}; the stored dose is kept",
            sent.product.mp(),
            sent.date,
            sent.citizen,
            differs.join(", ")
        ))
    }
}

/// The vaccination states on `as_of` of `citizens` (each of them; one person is a slice of one), under the
/// rules in force. For services (passes, checkpoints, admission policies, F1 quarantine): the caller has
/// already checked access.
pub async fn states(
    st: &AppState,
    citizens: &[CitizenId],
    as_of: NaiveDate,
) -> ApiResult<HashMap<CitizenId, VaccinationState>> {
    Ok(st
        .store
        .vaccination_states(citizens, &st.rules.vaccination, as_of)
        .await?)
}

/// A person found on the vaccination page, with their doses and state today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VaccinatedPerson {
    pub person: crate::services::people::PersonView,
    pub doses: Vec<DoseView>,
    pub state: VaccinationState,
}

/// People of the caller's jurisdiction by citizen id or name, with their doses and state (health, officer,
/// vaccinator, admin). Every person shown is audited.
pub async fn find_people(
    st: &AppState,
    who: &Principal,
    q: &str,
    lang: Lang,
) -> ApiResult<Vec<VaccinatedPerson>> {
    crate::auth::require_role(who, READERS)?;
    let found = crate::services::officer::registry_search(st, who, q).await?;
    let ids: Vec<CitizenId> = found.iter().map(|r| r.citizen_id).collect();
    let mut doses = st.store.doses_of_many(&ids).await?;
    let today = today(st);
    let mut out = Vec::with_capacity(found.len());
    for r in &found {
        st.store
            .audit(
                &who.actor,
                "vaccination.read",
                &format!("citizen:{}", r.citizen_id),
                q.trim(),
            )
            .await?;
        let mine = doses.remove(&r.citizen_id).unwrap_or_default();
        let state = VaccinationState::of(
            mine.iter().map(kiemdich_domain::DoseFacts::from),
            &st.rules.vaccination,
            today,
        );
        let summary = kiemdich_store::PersonSummary::from(r);
        out.push(VaccinatedPerson {
            person: crate::services::people::PersonView::new(
                st,
                r.citizen_id.as_str(),
                r.commune_code.as_str(),
                Some(&summary),
                today,
            ),
            doses: mine.iter().map(|d| DoseView::of(d, lang)).collect(),
            state,
        });
    }
    Ok(out)
}

/// The health locations (hospitals, health facilities) of the caller's jurisdiction, by name: the sites a
/// vaccinator picks from.
pub async fn sites(st: &AppState, who: &Principal) -> ApiResult<Vec<(i64, String)>> {
    let communes = st.units_within(&who.unit);
    Ok(st
        .store
        .locations_in(&communes)
        .await?
        .into_iter()
        .filter(|l| {
            matches!(
                l.kind,
                kiemdich_domain::LocationKind::Hospital
                    | kiemdich_domain::LocationKind::HealthFacility
            )
        })
        .map(|l| (l.id, l.name))
        .collect())
}

/// The products a form offers, in the catalogue's order: `mp` code, name in `lang`, doses of the series.
pub fn products(lang: Lang) -> Vec<(&'static str, &'static str, u8)> {
    kiemdich_domain::vaccination::vaccines()
        .all()
        .map(|p: VaccineProduct| (p.mp(), p.name(lang), p.series_doses()))
        .collect()
}
