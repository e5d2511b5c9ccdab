//! Cases: suspected, F0 (confirmed), F1 and F2 (contacts found by tracing), their lifecycle and what they mean
//! for a person's health status and quarantine.

use crate::{CitizenId, DateBounds, FieldErrors, HealthStatus, TracingRules};
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

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

string_enum!(
    /// Where a case was found: in the community (what the risk rules count), or already in quarantine or
    /// isolation (which they do not).
    DetectedIn { Community = "community", Quarantine = "quarantine" }
);

string_enum!(
    /// What a daily check on a person in isolation or quarantine found.
    FollowUpOutcome { Well = "well", Symptoms = "symptoms", Unreachable = "unreachable" }
);

string_enum!(
    /// How the check was made: the person answered the SMS, an officer called (people without smartphones),
    /// visited, or the person (or an officer for them) posted a daily health update.
    FollowUpChannel { Sms = "sms", Call = "call", Visit = "visit", SelfReport = "self_report" }
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

/// A case as reported by the CDC, a laboratory or a health officer: text fields, so that each problem can be
/// named. F1 and F2 cases come from confirming a trace, never from a report.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct RawCase {
    pub citizen_id: String,
    pub classification: Option<String>,
    #[serde(alias = "onset")]
    pub onset_date: Option<String>,
    #[serde(alias = "sample")]
    pub sample_date: Option<String>,
    #[serde(alias = "isolated")]
    pub isolated_date: Option<String>,
    pub state: Option<String>,
    pub source: Option<String>,
    pub vaccinated: Option<bool>,
    /// `community` (the default) or `quarantine`.
    pub detected_in: Option<String>,
}

/// A checked case report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseReport {
    pub citizen_id: CitizenId,
    pub class: CaseClass,
    pub onset_date: Option<NaiveDate>,
    pub sample_date: Option<NaiveDate>,
    pub isolated_date: Option<NaiveDate>,
    pub state: CaseState,
    pub source: CaseSource,
    pub vaccinated: bool,
    pub detected_in: DetectedIn,
}

fn report_date(
    errs: &mut FieldErrors,
    field: &str,
    s: Option<&str>,
    dates: &DateBounds,
) -> Option<NaiveDate> {
    let s = s.map(str::trim).filter(|s| !s.is_empty())?;
    errs.check(field, dates.parse(s, DateBounds::past))
}

impl RawCase {
    /// The columns of a CDC case feed, in order.
    pub const COLUMNS: [&str; 7] = [
        "citizen_id",
        "classification",
        "onset_date",
        "sample_date",
        "isolated_date",
        "state",
        "vaccinated",
    ];
    /// Optional columns after [`RawCase::COLUMNS`], in order.
    pub const OPTIONAL_COLUMNS: [&str; 1] = ["detected_in"];

    /// Checks every field and reports all problems: dates in the future, a confirmed case without onset or
    /// sample date, isolation before onset, unknown codes. Missing codes default to an F0, isolating at home,
    /// from `default_source`.
    pub fn parse(
        &self,
        dates: &DateBounds,
        default_source: CaseSource,
    ) -> Result<CaseReport, FieldErrors> {
        let mut errs = FieldErrors::default();
        let citizen_id = errs.check("citizen_id", CitizenId::parse(&self.citizen_id));
        let class = errs.check(
            "classification",
            CaseClass::parse(self.classification.as_deref().unwrap_or("f0")),
        );
        if matches!(class, Some(CaseClass::F1 | CaseClass::F2)) {
            errs.push(
                "classification",
                "F1 and F2 cases come from confirming a trace",
            );
        }
        let onset_date = report_date(&mut errs, "onset_date", self.onset_date.as_deref(), dates);
        let sample_date = report_date(&mut errs, "sample_date", self.sample_date.as_deref(), dates);
        let isolated_date = report_date(
            &mut errs,
            "isolated_date",
            self.isolated_date.as_deref(),
            dates,
        );
        if class == Some(CaseClass::F0) && onset_date.is_none() && sample_date.is_none() {
            errs.push(
                "onset_date",
                "a confirmed case needs a symptom onset or a positive sample date",
            );
        }
        if let (Some(i), Some(o)) = (isolated_date, onset_date.or(sample_date))
            && i < o
        {
            errs.push("isolated_date", format!("{i} is before onset {o}"));
        }
        let state = errs.check(
            "state",
            CaseState::parse(self.state.as_deref().unwrap_or("isolating_home")),
        );
        let detected_in = match self.detected_in.as_deref().map(str::trim) {
            None | Some("") => Some(DetectedIn::Community),
            Some(s) => errs.check("detected_in", DetectedIn::parse(s)),
        };
        let source = match self.source.as_deref() {
            Some(s) => errs.check("source", CaseSource::parse(s)),
            None => Some(default_source),
        };
        match (citizen_id, class, state, source, detected_in) {
            (Some(citizen_id), Some(class), Some(state), Some(source), Some(detected_in))
                if errs.is_empty() =>
            {
                Ok(CaseReport {
                    citizen_id,
                    class,
                    onset_date,
                    sample_date,
                    isolated_date,
                    state,
                    source,
                    vaccinated: self.vaccinated.unwrap_or(false),
                    detected_in,
                })
            }
            _ => Err(errs),
        }
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
