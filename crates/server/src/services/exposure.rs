//! Exposure places (địa điểm liên quan): where a confirmed case stayed while infectious, which a health officer
//! publishes so that anyone who was there at the same time declares their health. Nothing is published by itself;
//! the public list names neither the case nor anyone present.

use super::health::{case_in_reach, case_zones};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::catalogue::{ApiText, Problem};
use kiemdich_domain::{CaseClass, Instant, LocationKind};
use kiemdich_store::{ExposurePlace, ExposureWindow, Principal};
use serde::{Deserialize, Serialize};

/// The longest a publication may stay up without being renewed.
const MAX_DAYS: u32 = 60;

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublishRequest {
    /// Days the places stay on the public page; the rules' default when absent.
    pub days: Option<u32>,
}

/// What a publication put on the public page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub case_id: i64,
    pub places: usize,
    pub expires_at: Instant,
}

/// Publishes a confirmed case's zones (replacing its earlier publication) until the expiry. Health roles inside
/// their jurisdiction; audited.
pub async fn publish(
    st: &AppState,
    who: &Principal,
    case_id: i64,
    req: PublishRequest,
) -> ApiResult<Published> {
    let days = req.days.unwrap_or(st.rules.exposure_publication_days);
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(ApiError::field_as(
            "days",
            Problem::OutOfRange,
            format!("days must be from 1 to {MAX_DAYS}"),
        ));
    }
    let case = case_in_reach(st, who, case_id).await?;
    if case.classification != CaseClass::F0 {
        return Err(ApiError::conflict(format!(
            "case {case_id} is {}, not a confirmed case",
            case.classification.as_str()
        ))
        .saying(ApiText::NotConfirmedCase, &[]));
    }
    let (who, _, zones) = case_zones(st, who, case_id).await?;
    let places: Vec<ExposureWindow> = zones.iter().map(ExposureWindow::from).collect();
    let expires_at = chrono::Utc::now().timestamp() + i64::from(days) * 86_400;
    st.store
        .publish_exposures(&who.actor, case_id, &places, expires_at)
        .await?;
    st.public_pages.clear();
    Ok(Published {
        case_id,
        places: places.len(),
        expires_at: Instant(expires_at),
    })
}

/// Takes a case's places off the public page.
pub async fn withdraw(st: &AppState, who: &Principal, case_id: i64) -> ApiResult<Published> {
    case_in_reach(st, who, case_id).await?;
    let n = st.store.withdraw_exposures(&who.actor, case_id).await?;
    st.public_pages.clear();
    Ok(Published {
        case_id,
        places: usize::try_from(n).unwrap_or(usize::MAX),
        expires_at: Instant(chrono::Utc::now().timestamp()),
    })
}

/// One place and window on the public list: no case, no person.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposurePlaceView {
    /// The place's name.
    pub location: String,
    pub kind: LocationKind,
    pub commune_code: String,
    /// The commune and its district, by name.
    pub commune: String,
    pub lat: f64,
    pub lon: f64,
    pub from: Instant,
    pub to: Instant,
}

impl ExposurePlaceView {
    fn of(st: &AppState, p: ExposurePlace) -> ExposurePlaceView {
        ExposurePlaceView {
            commune: super::people::unit_name(st, &p.commune_code),
            location: p.name,
            kind: p.kind,
            commune_code: p.commune_code,
            lat: p.lat,
            lon: p.lon,
            from: Instant(p.window.from),
            to: Instant(p.window.to),
        }
    }
}

/// The places published and not expired, the latest first: public, for everyone.
pub async fn public_places(st: &AppState) -> ApiResult<Vec<ExposurePlaceView>> {
    let now = chrono::Utc::now().timestamp();
    let places = st.store.exposure_places(now, None).await?;
    Ok(places
        .into_iter()
        .map(|p| ExposurePlaceView::of(st, p))
        .collect())
}
