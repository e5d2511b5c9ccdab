//! Jurisdiction for reads of things named by id: outside the caller's unit they answer 404 exactly like ids
//! that do not exist, so that no one learns which ids exist elsewhere.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use kiemdich_domain::UnitCode;
use kiemdich_store::Principal;

impl AppState {
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
}
