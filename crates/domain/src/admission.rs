//! Admission by vaccination: what a checkpoint may know of a person's vaccination ([`VaccinationSummary`]: how
//! many doses and the date of the last, nothing more), what a place may require of it
//! ([`VaccinationRequirement`], rules data), and the one check that puts the two together
//! ([`VaccinationCheck::at`]). The colour and the vaccination state stay two facts: the colour decides first,
//! and this check only refuses a person whose colour the place admits.

use crate::catalogue::{Admission as A, Lang, Script as S, fill};
use crate::{FieldErrors, LocalClock};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a checkpoint may know of a person's vaccination: the number of doses recorded and the date of the
/// last. Zero doses is "no vaccination data" (a pass issued before passes carried it reads the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct VaccinationSummary {
    pub doses: u8,
    pub last_dose: Option<NaiveDate>,
}

impl VaccinationSummary {
    /// No dose recorded.
    pub const NONE: VaccinationSummary = VaccinationSummary {
        doses: 0,
        last_dose: None,
    };

    /// From a count of dose records and the latest date among them; a count beyond 255 is 255, and no dose
    /// has no date.
    pub fn new(count: i64, last_dose: Option<NaiveDate>) -> VaccinationSummary {
        let doses = u8::try_from(count.max(0)).unwrap_or(u8::MAX);
        VaccinationSummary {
            doses,
            last_dose: last_dose.filter(|_| doses > 0),
        }
    }

    pub fn is_none(&self) -> bool {
        self.doses == 0
    }

    /// As people read it beside the colour: `Đã tiêm 2 mũi · mũi cuối 12/09/2021`, or `Chưa có dữ liệu tiêm
    /// chủng`.
    pub fn describe(&self, l: Lang) -> String {
        match (self.doses, self.last_dose) {
            (0, _) | (_, None) => l.t(S::NoVaccinationData).to_owned(),
            (n, Some(day)) => fill(
                l.t(S::VaccinatedDoses),
                &[("doses", &n.to_string()), ("date", &LocalClock::date(day))],
            ),
        }
    }
}

/// What a place requires of a person's vaccination to admit them, e.g. `{"min_doses": 2,
/// "min_days_since_last": 14}`: at least that many doses, the last at least that many days before the day of
/// the scan. Rules data (a kind's default in the rules file, a location's override); the rules' `source` says
/// where the numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VaccinationRequirement {
    pub min_doses: u8,
    #[serde(default)]
    pub min_days_since_last: u16,
}

impl VaccinationRequirement {
    /// The most doses a requirement may name, and the longest wait after the last.
    pub const MAX_DOSES: u8 = 10;
    pub const MAX_DAYS: u16 = 365;

    /// Checks a requirement sent by a person (`field` names it in the problems): `min_doses` 0 to
    /// [`Self::MAX_DOSES`], where 0 means "no requirement" (None); `min_days_since_last` 0 to
    /// [`Self::MAX_DAYS`].
    pub fn parse(
        errs: &mut FieldErrors,
        field: &str,
        min_doses: i64,
        min_days_since_last: Option<i64>,
    ) -> Option<VaccinationRequirement> {
        let doses = u8::try_from(min_doses)
            .ok()
            .filter(|d| *d <= Self::MAX_DOSES);
        if doses.is_none() {
            errs.push(
                format!("{field}.min_doses"),
                format!("0 to {} doses (0: no requirement)", Self::MAX_DOSES),
            );
        }
        let days = u16::try_from(min_days_since_last.unwrap_or(0))
            .ok()
            .filter(|d| *d <= Self::MAX_DAYS);
        if days.is_none() {
            errs.push(
                format!("{field}.min_days_since_last"),
                format!("0 to {} days", Self::MAX_DAYS),
            );
        }
        match (doses, days) {
            (Some(0), _) => None,
            (Some(min_doses), Some(min_days_since_last)) => Some(VaccinationRequirement {
                min_doses,
                min_days_since_last,
            }),
            _ => None,
        }
    }

    /// Whether a person with this summary is admitted on day `on`: enough doses, and the last one long
    /// enough ago.
    pub fn met_by(&self, s: &VaccinationSummary, on: NaiveDate) -> bool {
        s.doses >= self.min_doses
            && (self.min_days_since_last == 0
                || s.last_dose.is_some_and(|last| {
                    (on - last).num_days() >= i64::from(self.min_days_since_last)
                }))
    }

    /// As staff read it: `Ít nhất 2 mũi, mũi cuối cách ít nhất 14 ngày`.
    pub fn describe(&self, l: Lang) -> String {
        let doses = self.min_doses.to_string();
        if self.min_days_since_last == 0 {
            fill(l.t(A::AtLeastDoses), &[("doses", &doses)])
        } else {
            fill(
                l.t(A::AtLeastDosesDaysSinceLast),
                &[
                    ("doses", &doses),
                    ("days", &self.min_days_since_last.to_string()),
                ],
            )
        }
    }

    /// A place's requirement as staff read it; none is said too.
    pub fn describe_or_none(r: Option<&VaccinationRequirement>, l: Lang) -> String {
        r.map_or_else(|| l.t(A::NoRequirement).to_owned(), |r| r.describe(l))
    }
}

/// The vaccination fact of a scan, beside the colour: the person's doses and last dose date, and whether
/// they meet the place's requirement (`meets` null when the place requires nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VaccinationCheck {
    pub doses: u8,
    pub last_dose: Option<NaiveDate>,
    pub meets: Option<bool>,
}

/// Reason codes of a refusal by vaccination, for the scanner's texts.
pub const REASON_NO_VACCINATION_DATA: &str = "vaccination_no_data";
pub const REASON_VACCINATION_NOT_MET: &str = "vaccination_not_met";

impl VaccinationCheck {
    /// The state of `s` at a place requiring `required` (if anything) on day `on`. One small function for every
    /// kind of evidence: a KD1 pass's summary, the records, a certificate's vaccination entry.
    pub fn at(
        required: Option<&VaccinationRequirement>,
        s: &VaccinationSummary,
        on: NaiveDate,
    ) -> VaccinationCheck {
        VaccinationCheck {
            doses: s.doses,
            last_dose: s.last_dose,
            meets: required.map(|r| r.met_by(s, on)),
        }
    }

    /// Why the place refuses, when it requires something this person does not meet: no data at all, or not
    /// enough (doses, or days since the last).
    pub fn refusal(&self) -> Option<&'static str> {
        match self.meets {
            Some(false) if self.doses == 0 => Some(REASON_NO_VACCINATION_DATA),
            Some(false) => Some(REASON_VACCINATION_NOT_MET),
            _ => None,
        }
    }

    pub fn summary(&self) -> VaccinationSummary {
        VaccinationSummary {
            doses: self.doses,
            last_dose: self.last_dose,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().expect("a date")
    }

    const FULL: VaccinationRequirement = VaccinationRequirement {
        min_doses: 2,
        min_days_since_last: 14,
    };

    #[test]
    fn two_doses_the_last_fourteen_days_ago_is_met_and_one_day_less_is_not() {
        let s = VaccinationSummary::new(2, Some(day("2021-09-12")));
        assert!(FULL.met_by(&s, day("2021-09-26")));
        assert!(!FULL.met_by(&s, day("2021-09-25")));
        let one = VaccinationSummary::new(1, Some(day("2021-06-01")));
        assert!(!FULL.met_by(&one, day("2021-12-01")));
        assert!(!FULL.met_by(&VaccinationSummary::NONE, day("2021-12-01")));
        let any = VaccinationRequirement {
            min_doses: 1,
            min_days_since_last: 0,
        };
        assert!(any.met_by(&one, day("2021-06-01")), "no wait asked");
    }

    #[test]
    fn the_state_says_meets_only_when_something_is_required() {
        let s = VaccinationSummary::new(1, Some(day("2021-09-12")));
        let on = day("2021-12-01");
        let free = VaccinationCheck::at(None, &s, on);
        assert_eq!((free.meets, free.refusal()), (None, None));
        let refused = VaccinationCheck::at(Some(&FULL), &s, on);
        assert_eq!(refused.meets, Some(false));
        assert_eq!(refused.refusal(), Some(REASON_VACCINATION_NOT_MET));
        assert_eq!(
            VaccinationCheck::at(Some(&FULL), &VaccinationSummary::NONE, on).refusal(),
            Some(REASON_NO_VACCINATION_DATA)
        );
    }

    #[test]
    fn requirements_are_checked_and_zero_doses_means_none() {
        let mut errs = FieldErrors::default();
        assert_eq!(
            VaccinationRequirement::parse(&mut errs, "v", 2, Some(14)),
            Some(FULL)
        );
        assert_eq!(VaccinationRequirement::parse(&mut errs, "v", 0, None), None);
        assert!(errs.is_empty());
        assert_eq!(
            VaccinationRequirement::parse(&mut errs, "v", 11, Some(-1)),
            None
        );
        assert_eq!(errs.0.len(), 2);
    }

    #[test]
    fn the_state_reads_as_people_say_it() {
        let s = VaccinationSummary::new(2, Some(day("2021-09-12")));
        assert_eq!(s.describe(Lang::Vi), "Đã tiêm 2 mũi · mũi cuối 12/09/2021");
        assert_eq!(
            VaccinationSummary::NONE.describe(Lang::Vi),
            "Chưa có dữ liệu tiêm chủng"
        );
        assert_eq!(
            VaccinationSummary::new(0, Some(day("2021-09-12"))),
            VaccinationSummary::NONE
        );
        assert_eq!(
            FULL.describe(Lang::Vi),
            "Ít nhất 2 mũi, mũi cuối cách ít nhất 14 ngày"
        );
    }
}
