//! Times as people in Vietnam read them, in the rules' time zone: `14:37 29/11/2026`, `29/11/2026`, `14:00`.
//! Everything a person reads (pages, cards, notices, SMS) goes through here; APIs keep RFC 3339.

use chrono::{DateTime, FixedOffset, NaiveDate};

/// The local clock of the rules (Vietnam: UTC+7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalClock {
    offset: FixedOffset,
}

impl LocalClock {
    /// A clock `hours` east of UTC; an offset no clock has falls back to UTC+7.
    pub fn new(hours: i32) -> LocalClock {
        let offset = FixedOffset::east_opt(hours * 3600)
            .or_else(|| FixedOffset::east_opt(7 * 3600))
            .expect("UTC+7 is a valid offset");
        LocalClock { offset }
    }

    fn at(&self, t: i64) -> DateTime<FixedOffset> {
        DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .with_timezone(&self.offset)
    }

    /// `14:37 29/11/2026`.
    pub fn time(&self, t: i64) -> String {
        self.at(t).format("%H:%M %d/%m/%Y").to_string()
    }

    /// The hour a time falls in: `14:00`.
    pub fn hour(&self, t: i64) -> String {
        self.at(t).format("%H:00").to_string()
    }

    /// A span of time: `10:00 – 11:30 24/11/2026` within one day, else both times in full.
    pub fn span(&self, from: i64, to: i64) -> String {
        let (a, b) = (self.at(from), self.at(to));
        if a.date_naive() == b.date_naive() {
            format!("{} – {}", a.format("%H:%M"), self.time(to))
        } else {
            format!("{} – {}", self.time(from), self.time(to))
        }
    }

    /// `29/11/2026`.
    pub fn date(day: NaiveDate) -> String {
        day.format("%d/%m/%Y").to_string()
    }
}

/// A moment in Unix seconds, sent in answers as RFC 3339 UTC (`2026-11-29T07:37:45Z`), the API's format;
/// pages show it through [`LocalClock::time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(pub i64);

impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = DateTime::from_timestamp(self.0, 0).unwrap_or_default();
        s.serialize_str(&t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    }
}

#[cfg(test)]
mod span_tests {
    use super::LocalClock;

    #[test]
    fn a_span_within_a_local_day_names_the_day_once() {
        let clock = LocalClock::new(7);
        // 03:00Z and 04:30Z on 24 Nov 2026 are 10:00 and 11:30 in Vietnam.
        let from = 1_795_489_200;
        assert_eq!(clock.span(from, from + 5_400), "10:00 – 11:30 24/11/2026");
        // 16:30Z is 23:30 local; 18:00Z is 01:00 the next local day.
        assert_eq!(
            clock.span(from + 48_600, from + 54_000),
            "23:30 24/11/2026 – 01:00 25/11/2026"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vietnam_time_is_seven_hours_ahead_and_written_day_first() {
        let clock = LocalClock::new(7);
        // 2026-11-29T07:37:45Z
        let t = 1_795_937_865;
        assert_eq!(clock.time(t), "14:37 29/11/2026");
        assert_eq!(clock.hour(t), "14:00");
        // 17:30 UTC is already the next day in Vietnam.
        assert_eq!(clock.time(t + 9 * 3600 + 53 * 60), "00:30 30/11/2026");
        assert_eq!(
            serde_json::to_string(&Instant(t)).unwrap(),
            "\"2026-11-29T07:37:45Z\""
        );
        let day = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
        assert_eq!(LocalClock::date(day), "05/01/2026");
    }
}
