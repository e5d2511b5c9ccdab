//! Jurisdiction, in one place. A unit the caller names (a commune to declare in, a unit to grant) outside
//! their own is refused with 403; a thing named by id outside it answers 404 exactly like an id that does not
//! exist, so that no one learns which ids exist elsewhere.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::UnitCode;
use kiemdich_domain::catalogue::ApiText;
use kiemdich_store::Principal;

impl AppState {
    /// Codes of every unit inside `outer` (itself included).
    pub fn units_within(&self, outer: &UnitCode) -> Vec<String> {
        let tree = self.units();
        tree.all()
            .filter(|u| tree.contains(outer, &u.code))
            .map(|u| u.code.to_string())
            .collect()
    }

    /// Refuses (403) a unit the caller named unless it lies inside their jurisdiction.
    pub fn check_jurisdiction(&self, who: &Principal, unit: &UnitCode) -> ApiResult<()> {
        if self.units().contains(&who.unit, unit) {
            Ok(())
        } else {
            let name = self
                .units()
                .get(unit)
                .map_or_else(|| unit.to_string(), |u| u.name.clone());
            Err(ApiError::forbidden(format!(
                "unit {unit} is outside your jurisdiction ({})",
                who.unit
            ))
            .saying(ApiText::OutsideJurisdiction, &[("unit", name)]))
        }
    }

    /// Whether `unit` lies inside the principal's jurisdiction.
    pub fn reaches(&self, who: &Principal, unit: &str) -> bool {
        UnitCode::parse(unit).is_ok_and(|u| self.units().contains(&who.unit, &u))
    }

    /// Refuses with 404 (`what`, e.g. "no case 12") unless `unit` lies inside the principal's jurisdiction.
    pub fn in_reach(&self, who: &Principal, unit: &str, what: impl Into<String>) -> ApiResult<()> {
        if self.reaches(who, unit) {
            Ok(())
        } else {
            Err(ApiError::not_found(what))
        }
    }

    /// A thing looked up by id (`found`), if it lies inside the caller's jurisdiction by `unit_of`; when it
    /// is missing or lies outside, 404 with `what` (e.g. "no staff account 12") alike, so that no one learns
    /// which ids exist elsewhere.
    pub fn in_reach_or_404<T>(
        &self,
        who: &Principal,
        found: Option<T>,
        unit_of: impl FnOnce(&T) -> &str,
        what: impl Into<String>,
    ) -> ApiResult<T> {
        match found {
            Some(thing) if self.reaches(who, unit_of(&thing)) => Ok(thing),
            _ => Err(ApiError::not_found(what)),
        }
    }
}
