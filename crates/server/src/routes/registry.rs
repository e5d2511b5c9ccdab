//! Administrative units (public) and the population registry (staff, within jurisdiction, audited).

use super::rfc3339;
use crate::AppState;
use crate::auth::Staff;
use crate::error::{ApiError, ApiResult};
use axum::Json;
use axum::extract::{Path, Query, State};
use kiemdich_domain::{AdminUnit, CitizenId, RegistryRecord, UnitCode};
use kiemdich_store::Role;
use serde::Deserialize;
use serde_json::{Value, json};

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

pub async fn unit(State(st): State<AppState>, Path(code): Path<String>) -> ApiResult<Json<Value>> {
    let code = unit_code(&code)?;
    let tree = st.units();
    let unit = tree
        .get(&code)
        .ok_or_else(|| ApiError::not_found(format!("no unit {code}")))?;
    let children: Vec<&AdminUnit> = tree.children(&code).collect();
    Ok(Json(
        json!({"unit": unit, "ancestors": tree.ancestors(&code), "children": children}),
    ))
}

fn resident_json(r: &RegistryRecord) -> Value {
    json!({
        "citizen_id": r.citizen_id, "full_name": r.full_name, "date_of_birth": r.date_of_birth, "sex": r.sex,
        "commune_code": r.commune_code, "address": r.address, "phone": r.phone,
    })
}

pub async fn resident(
    State(st): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
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
    let pass = st.store.latest_pass(id.as_str()).await?.map(|p| {
        json!({"id": p.id, "status": p.status, "issued_at": rfc3339(p.issued_at), "expires_at": rfc3339(p.expires_at),
               "revoked_at": p.revoked_at.map(rfc3339), "revoke_reason": p.revoke_reason})
    });
    let mut body = resident_json(&record);
    body["pass"] = pass.unwrap_or(Value::Null);
    Ok(Json(body))
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
) -> ApiResult<Json<Value>> {
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
    Ok(Json(
        json!({"residents": found.iter().map(resident_json).collect::<Vec<_>>()}),
    ))
}
