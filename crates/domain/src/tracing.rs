//! Contact tracing rules (Ministry of Health 2021 guidance), pure: the infectious window of a case, the stay a
//! visit stands for, and the exposure between two stays. F0 is a confirmed case; F1 a person who shared a place
//! with an F0 inside its infectious window for at least the minimum overlap; F2 the same relation to an F1.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

/// Versioned tracing parameters (part of [`crate::Rules`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TracingRules {
    /// An F0 is infectious from this many days before symptom onset (or the positive sample).
    pub infectious_days_before_onset: u32,
    /// The least shared time at one place that makes a contact, in whole minutes.
    pub min_overlap_minutes: u32,
    /// How many generations a trace follows by default (2: F1 and F2).
    pub default_depth: u32,
    /// The deepest trace allowed.
    pub max_depth: u32,
    /// Dates in requests are local dates at this offset from UTC (Vietnam: +7).
    pub utc_offset_hours: i32,
    /// Longer visits are refused on import: a stay is hours, not days.
    pub max_visit_hours: u32,
    /// Quarantine of an F1 from the last exposure, and for the fully vaccinated or recovered.
    pub quarantine_days: u32,
    pub quarantine_days_vaccinated: u32,
}

fn instant(field: &str, s: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.timestamp())
        .map_err(|_| format!("{field}: must be RFC 3339, got {s:?}"))
}

/// A span of Unix seconds, half-open: [from, to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Span {
    pub from: i64,
    pub to: i64,
}

impl TracingRules {
    /// Unix seconds at the start of a local date.
    pub fn day_start(&self, day: NaiveDate) -> i64 {
        day.and_hms_opt(0, 0, 0)
            .expect("midnight exists")
            .and_utc()
            .timestamp()
            - i64::from(self.utc_offset_hours) * 3600
    }

    /// The local date of a Unix time.
    pub fn local_date(&self, t: i64) -> NaiveDate {
        chrono::DateTime::from_timestamp(t + i64::from(self.utc_offset_hours) * 3600, 0)
            .unwrap_or_default()
            .date_naive()
    }

    /// The infectious window: from the start of the day `infectious_days_before_onset` before onset until the end
    /// of the isolation day (the case may have been out that morning), or until `now` when not yet isolated.
    pub fn infectious_window(
        &self,
        onset: NaiveDate,
        isolated: Option<NaiveDate>,
        now: i64,
    ) -> Result<Span, String> {
        let today = self.local_date(now);
        if onset > today {
            return Err(format!("onset {onset} is in the future (today is {today})"));
        }
        let from =
            self.day_start(onset - Duration::days(i64::from(self.infectious_days_before_onset)));
        let to = match isolated {
            Some(day) if day < onset => {
                return Err(format!("isolation {day} is before onset {onset}"));
            }
            Some(day) if day > today => {
                return Err(format!(
                    "isolation {day} is in the future (today is {today})"
                ));
            }
            Some(day) => self.day_start(day + Duration::days(1)).min(now),
            None => now,
        };
        Ok(Span { from, to })
    }
}

/// A visit as stored: the exit may be unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visit {
    pub location_id: i64,
    pub citizen: i64,
    pub entered_at: i64,
    pub exited_at: Option<i64>,
}

impl Visit {
    /// Parses one line of a visit import (`location_id,citizen_id,entered_at,exited_at`, RFC 3339 times, the
    /// exit may be empty): citizen id shape, times in order, entry not after `now`, at most `max_secs` long.
    /// Whether the location and the person exist is for the caller, which holds them.
    pub fn parse_row(fields: [&str; 4], max_secs: i64, now: i64) -> Result<Visit, String> {
        let [location, citizen, entered, exited] = fields;
        let location_id: i64 = location
            .trim()
            .parse()
            .map_err(|_| format!("location_id: not a number: {location:?}"))?;
        let id = crate::CitizenId::parse(citizen).map_err(|e| format!("citizen_id: {e}"))?;
        let entered_at = instant("entered_at", entered)?;
        let exited_at = match exited.trim() {
            "" => None,
            s => Some(instant("exited_at", s)?),
        };
        if entered_at > now {
            return Err("entered_at: is in the future".into());
        }
        if let Some(exit) = exited_at {
            if exit <= entered_at {
                return Err("exited_at: is not after entered_at".into());
            }
            if exit - entered_at > max_secs {
                return Err(format!(
                    "exited_at: a visit may last at most {} hours; split it",
                    max_secs / 3600
                ));
            }
        }
        Ok(Visit {
            location_id,
            citizen: id.number(),
            entered_at,
            exited_at,
        })
    }

    /// The stay this visit stands for: until the exit scan, else until the person's next check-in elsewhere or
    /// the location's dwell time, whichever comes first.
    pub fn stay(&self, dwell_secs: i64, next_entry: Option<i64>) -> Span {
        let to = self.exited_at.unwrap_or_else(|| {
            let by_dwell = self.entered_at + dwell_secs;
            next_entry
                .filter(|&n| n > self.entered_at)
                .map_or(by_dwell, |n| n.min(by_dwell))
        });
        Span {
            from: self.entered_at,
            to,
        }
    }
}

/// One piece of evidence: where and when two people shared a place, in whole minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exposure {
    pub location_id: i64,
    pub from: i64,
    pub to: i64,
    pub minutes: i64,
}

/// The shared part of two stays at one place, if it lasts at least `min_minutes` whole minutes.
pub fn exposure(location_id: i64, a: Span, b: Span, min_minutes: u32) -> Option<Exposure> {
    let (from, to) = (a.from.max(b.from), a.to.min(b.to));
    let minutes = (to - from).div_euclid(60);
    (to > from && minutes >= i64::from(min_minutes.max(1))).then_some(Exposure {
        location_id,
        from,
        to,
        minutes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> TracingRules {
        crate::Rules::default().tracing
    }

    #[test]
    fn overlap_is_half_open_in_whole_minutes() {
        let s = |from, to| Span { from, to };
        let e = exposure(1, s(0, 900), s(0, 3600), 15).unwrap();
        assert_eq!((e.from, e.to, e.minutes), (0, 900, 15));
        assert!(
            exposure(1, s(0, 899), s(0, 3600), 15).is_none(),
            "14 min 59 s is 14 minutes"
        );
        assert!(
            exposure(1, s(0, 900), s(900, 3600), 15).is_none(),
            "touching stays share nothing"
        );
        assert_eq!(
            exposure(1, s(100, 2000), s(0, 1000), 15).unwrap().minutes,
            15
        );
    }

    #[test]
    fn an_open_visit_ends_at_the_next_check_in_or_after_the_dwell() {
        let v = Visit {
            location_id: 1,
            citizen: 7,
            entered_at: 1000,
            exited_at: None,
        };
        assert_eq!(v.stay(3600, None).to, 4600);
        assert_eq!(v.stay(3600, Some(2000)).to, 2000);
        assert_eq!(v.stay(3600, Some(9000)).to, 4600);
        let closed = Visit {
            exited_at: Some(1500),
            ..v
        };
        assert_eq!(closed.stay(3600, Some(1200)).to, 1500, "an exit scan wins");
    }

    #[test]
    fn the_window_runs_from_two_days_before_onset_to_the_end_of_isolation_day() {
        let r = rules();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let now = r.day_start(day("2021-08-20")) + 3600;
        let w = r
            .infectious_window(day("2021-08-10"), Some(day("2021-08-12")), now)
            .unwrap();
        assert_eq!(w.from, r.day_start(day("2021-08-08")));
        assert_eq!(w.to, r.day_start(day("2021-08-13")));
        assert_eq!(
            r.day_start(day("2021-08-08")) % 86_400,
            17 * 3600,
            "local midnight is 17:00 UTC"
        );
        let open = r.infectious_window(day("2021-08-19"), None, now).unwrap();
        assert_eq!(open.to, now);
        assert!(
            r.infectious_window(day("2021-08-21"), None, now)
                .unwrap_err()
                .contains("future")
        );
        assert!(
            r.infectious_window(day("2021-08-10"), Some(day("2021-08-09")), now)
                .is_err()
        );
    }
}
