//! Administrative units (public) and the population registry (staff, within jurisdiction, audited).

use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::NaiveDate;
use kiemdich_domain::{
    AdminUnit, CitizenId, FullName, HealthStatus, Instant, Phone, RegistryRecord, Sex, UnitCode,
};
use kiemdich_store::Role;
use serde::{Deserialize, Serialize};

const READERS: &[Role] = &[Role::Admin, Role::Officer, Role::Health];

pub async fn units(State(st): State<AppState>) -> Json<Vec<AdminUnit>> {
    let tree = st.units();
    let mut all: Vec<AdminUnit> = tree.all().cloned().collect();
    all.sort_by(|a, b| a.code.cmp(&b.code));
    Json(all)
}

fn unit_code(s: &str) -> ApiResult<UnitCode> {
    UnitCode::parse(s).map_err(|e| ApiError::field("code", e))
}

/// A unit with its ancestors and children.
#[derive(Serialize)]
pub struct UnitView {
    unit: AdminUnit,
    ancestors: Vec<AdminUnit>,
    children: Vec<AdminUnit>,
}

pub async fn unit(
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<UnitView>> {
    let code = unit_code(&code)?;
    let tree = st.units();
    let unit = tree
        .get(&code)
        .ok_or_else(|| ApiError::not_found(format!("no unit {code}")))?;
    Ok(Json(UnitView {
        unit: unit.clone(),
        ancestors: tree.ancestors(&code).into_iter().cloned().collect(),
        children: tree.children(&code).cloned().collect(),
    }))
}

/// A person of the registry as staff read them.
#[derive(Serialize)]
pub struct ResidentView {
    citizen_id: CitizenId,
    full_name: FullName,
    date_of_birth: NaiveDate,
    sex: Sex,
    commune_code: UnitCode,
    address: String,
    phone: Option<Phone>,
    /// With a single read of one person: their newest pass.
    #[serde(skip_serializing_if = "Option::is_none")]
    pass: Option<Option<PassSummary>>,
}

impl From<&RegistryRecord> for ResidentView {
    fn from(r: &RegistryRecord) -> ResidentView {
        ResidentView {
            citizen_id: r.citizen_id,
            full_name: r.full_name.clone(),
            date_of_birth: r.date_of_birth,
            sex: r.sex,
            commune_code: r.commune_code.clone(),
            address: r.address.clone(),
            phone: r.phone.clone(),
            pass: None,
        }
    }
}

#[derive(Serialize)]
pub struct PassSummary {
    id: String,
    status: HealthStatus,
    issued_at: Instant,
    expires_at: Instant,
    revoked_at: Option<Instant>,
    revoke_reason: Option<String>,
}

pub async fn resident(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<ResidentView>> {
    let who = staff.require(READERS)?;
    let id = CitizenId::parse(&id).map_err(|e| ApiError::field("citizen_id", e))?;
    let record = st
        .store
        .resident(&id)
        .await?
        .filter(|r| st.reaches(who, r.commune_code.as_str()))
        .ok_or_else(|| {
            ApiError::not_found(format!("{id} is not in the registry of your jurisdiction"))
        })?;
    st.store
        .audit(&who.actor, "resident.read", &format!("citizen:{id}"), "")
        .await?;
    let pass = st
        .store
        .latest_pass(id.as_str())
        .await?
        .map(|p| PassSummary {
            id: p.id,
            status: p.status,
            issued_at: Instant(p.issued_at),
            expires_at: Instant(p.expires_at),
            revoked_at: p.revoked_at.map(Instant),
            revoke_reason: p.revoke_reason,
        });
    Ok(Json(ResidentView {
        pass: Some(pass),
        ..ResidentView::from(&record)
    }))
}

#[derive(Serialize)]
pub struct Residents {
    residents: Vec<ResidentView>,
}

#[derive(Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub commune: Option<String>,
    pub limit: Option<i64>,
}

/// Name search among residents of the caller's jurisdiction (or one commune inside it); every hit is audited.
pub async fn search_residents(
    State(st): State<AppState>,
    staff: Staff,
    Query(q): Query<SearchQuery>,
) -> ApiResult<Json<Residents>> {
    let who = staff.require(READERS)?;
    // Counted after folding, as the search compares: "%%" or "  " must not list a whole commune.
    let folded = kiemdich_domain::person::fold(&q.q);
    if folded.chars().filter(|c| c.is_alphanumeric()).count() < 2 {
        return Err(ApiError::field(
            "q",
            "search needs at least 2 letters or digits",
        ));
    }
    let tree = st.units();
    let communes: Vec<UnitCode> = match q.commune.as_deref() {
        Some(c) => {
            let c = unit_code(c)?;
            st.check_jurisdiction(who, &c)?;
            vec![c]
        }
        None => tree
            .communes()
            .filter(|u| tree.contains(&who.unit, &u.code))
            .map(|u| u.code.clone())
            .collect(),
    };
    let found = st
        .store
        .search_residents(&communes, &q.q, q.limit.unwrap_or(20).clamp(1, 100))
        .await?;
    for r in &found {
        st.store
            .audit(
                &who.actor,
                "resident.search",
                &format!("citizen:{}", r.citizen_id),
                q.q.trim(),
            )
            .await?;
    }
    Ok(Json(Residents {
        residents: found.iter().map(ResidentView::from).collect(),
    }))
}
