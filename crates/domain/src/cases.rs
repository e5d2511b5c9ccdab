//! Cases: suspected, F0 (confirmed), F1 and F2 (contacts found by tracing), their lifecycle and what they mean
//! for a person's health status and quarantine.

use crate::{HealthStatus, TracingRules};
use chrono::{Duration, NaiveDate};

string_enum!(
    /// What is known of a person: awaiting a result, confirmed (F0), or a contact of the first or second degree.
    CaseClass { Suspected = "suspected", F0 = "f0", F1 = "f1", F2 = "f2" }
);

string_enum!(
    /// Where the person is in their course: isolating at home or in a facility, in hospital, or done.
    CaseState { IsolatingHome = "isolating_home", IsolatingFacility = "isolating_facility",
                Hospitalised = "hospitalised", Released = "released", Died = "died" }
);

string_enum!(
    /// Where a case came from.
    CaseSource { TestResult = "test_result", CdcFeed = "cdc_feed", Manual = "manual", Tracing = "tracing" }
);

impl CaseClass {
    /// The colour an active case gives its person.
    pub fn status(self) -> HealthStatus {
        match self {
            CaseClass::F0 => HealthStatus::Red,
            CaseClass::F1 => HealthStatus::Orange,
            CaseClass::F2 | CaseClass::Suspected => HealthStatus::Yellow,
        }
    }

    /// The class of a contact found at `degree` of a trace.
    pub fn of_degree(degree: u32) -> CaseClass {
        if degree == 1 {
            CaseClass::F1
        } else {
            CaseClass::F2
        }
    }
}

impl CaseState {
    pub fn is_active(self) -> bool {
        !matches!(self, CaseState::Released | CaseState::Died)
    }
}

impl TracingRules {
    /// The last day of an F1's quarantine: counted from the last exposure, shorter for the fully vaccinated or
    /// recovered. F2s are not quarantined, only watched.
    pub fn quarantine_until(
        &self,
        class: CaseClass,
        last_exposure: i64,
        vaccinated: bool,
    ) -> Option<NaiveDate> {
        let days = if vaccinated {
            self.quarantine_days_vaccinated
        } else {
            self.quarantine_days
        };
        (class == CaseClass::F1)
            .then(|| self.local_date(last_exposure) + Duration::days(i64::from(days)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_give_their_colour_and_f1s_their_quarantine() {
        assert_eq!(CaseClass::F0.status(), HealthStatus::Red);
        assert_eq!(CaseClass::of_degree(1).status(), HealthStatus::Orange);
        assert_eq!(CaseClass::of_degree(2), CaseClass::F2);
        assert!(CaseClass::parse("F9").unwrap_err().contains("f0"));
        let r = crate::Rules::default().tracing;
        let day = NaiveDate::from_ymd_opt(2021, 8, 10).unwrap();
        let t = r.day_start(day) + 3600;
        assert_eq!(
            r.quarantine_until(CaseClass::F1, t, false),
            Some(day + Duration::days(14))
        );
        assert_eq!(
            r.quarantine_until(CaseClass::F1, t, true),
            Some(day + Duration::days(7))
        );
        assert_eq!(r.quarantine_until(CaseClass::F2, t, false), None);
        assert!(!CaseState::Released.is_active() && CaseState::Hospitalised.is_active());
    }
}
