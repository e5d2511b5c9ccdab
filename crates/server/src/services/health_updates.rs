//! Daily health updates: the resident posts their own, an officer or health officer enters one for a person
//! of their jurisdiction without a phone. The rules decide what is urgent; an urgent update tells the person's
//! commune health station at once (SMS to its phone where one is configured, and the commune's notices).

use crate::AppState;
use crate::auth::require_role;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::catalogue::{HealthBook as T, Labelled as _, Lang, Message as _, fill};
use kiemdich_domain::{HealthUpdate, OutboxChannel, RawHealthUpdate, RegistryRecord};
use kiemdich_store::{NewHealthUpdate, Notice, Principal, Role};
use serde::Serialize;

/// Who may enter an update for another person (inside their jurisdiction).
pub const ENTERERS: &[Role] = &[Role::Officer, Role::Health, Role::Admin];

/// The answer to a posted update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Posted {
    pub id: i64,
    pub urgent: bool,
}

/// The signed-in resident's own update.
pub async fn post_mine(st: &AppState, who: &Principal, raw: &RawHealthUpdate) -> ApiResult<Posted> {
    let id = crate::services::resident::resident_of(who)?;
    let person = st
        .store
        .resident(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("{id} is no longer in the registry")))?;
    post(st, &who.actor, &person, raw).await
}

/// An update entered by staff for a person of their jurisdiction (404 outside it, as other reads of people).
pub async fn post_for(
    st: &AppState,
    who: &Principal,
    citizen: &str,
    raw: &RawHealthUpdate,
) -> ApiResult<Posted> {
    require_role(who, ENTERERS)?;
    let person = crate::services::vaccination::person_in_reach(st, who, citizen).await?;
    post(st, &who.actor, &person, raw).await
}

async fn post(
    st: &AppState,
    actor: &str,
    person: &RegistryRecord,
    raw: &RawHealthUpdate,
) -> ApiResult<Posted> {
    let rules = &st.rules.health_updates;
    let update = raw.parse(rules).map_err(ApiError::invalid)?;
    let urgent = update.is_urgent(rules);
    let at = chrono::Utc::now().timestamp();
    let notices = if urgent {
        station_notices(st, person, &update)
    } else {
        Vec::new()
    };
    let stored = st
        .store
        .record_health_update(&NewHealthUpdate {
            citizen_id: person.citizen_id,
            commune_code: person.commune_code.to_string(),
            day: st.rules.tracing.local_date(at),
            at,
            update,
            urgent,
            entered_by: actor.to_owned(),
            notices,
        })
        .await?;
    Ok(Posted {
        id: stored.id,
        urgent,
    })
}

/// The message to the person's commune health station (by SMS where its phone is configured) and to the
/// commune's staff notices: who, their phone, and which warning signs. In Vietnamese, as the station reads it.
fn station_notices(st: &AppState, person: &RegistryRecord, u: &HealthUpdate) -> Vec<Notice> {
    let rules = &st.rules.health_updates;
    let lang = Lang::Vi;
    let mut signs: Vec<String> = u
        .spo2
        .filter(|s| *s < rules.spo2_urgent_below)
        .map(|s| fill(T::LowSpo2.text(lang), &[("value", &s.to_string())]))
        .into_iter()
        .collect();
    signs.extend(
        u.symptoms
            .iter()
            .filter(|s| rules.warning_symptoms.contains(s))
            .map(|s| s.name(lang).to_owned()),
    );
    let phone = person.phone.as_ref().map_or_else(
        || T::NoPhone.text(lang).to_owned(),
        |p| p.as_str().to_owned(),
    );
    let body = fill(
        T::WarningSignsToStation.text(lang),
        &[
            ("person", person.full_name.as_str()),
            ("phone", &phone),
            ("signs", &signs.join(", ")),
        ],
    );
    let commune = person.commune_code.to_string();
    let mut out = Vec::with_capacity(2);
    if let Some(station) = st.station(&person.commune_code) {
        out.push(Notice {
            channel: OutboxChannel::Sms,
            recipient: station.phone,
            body: body.clone(),
            unit: commune.clone(),
        });
    }
    out.push(Notice {
        channel: OutboxChannel::Commune,
        recipient: commune.clone(),
        body,
        unit: commune,
    });
    out
}
