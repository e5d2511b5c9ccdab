//! Bounds every input must keep, whatever the form: free text without control or direction-changing
//! characters, measured after normalising, and dates inside the epidemic's span (from the rules).

use chrono::{Duration, NaiveDate};
use unicode_normalization::UnicodeNormalization;

/// Characters that change the direction of the text around them (bidi embeddings, overrides, isolates and
/// marks): shown on a page they can make "ABC" read as "CBA" or hide what follows.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Free text as stored: NFC-normalised and trimmed, at most `max` characters counted after normalising, no
/// control characters (NUL, escapes, line breaks), no bidi controls. Empty text is refused.
pub fn clean_text(s: &str, max: usize) -> Result<String, String> {
    let s: String = s.trim().nfc().collect();
    if s.is_empty() {
        return Err("empty entry".into());
    }
    if let Some(c) = s.chars().find(|c| c.is_control() || is_bidi_control(*c)) {
        return Err(format!(
            "contains the control character U+{:04X}; type plain text",
            u32::from(c)
        ));
    }
    let n = s.chars().count();
    if n > max {
        return Err(format!("longer than {max} characters ({n})"));
    }
    Ok(s)
}

/// The dates a request may name: none before the epidemic (`earliest`, from the rules), none after `today`
/// unless the field looks ahead (a planned journey, up to `days_ahead`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateBounds {
    pub earliest: NaiveDate,
    pub today: NaiveDate,
    pub days_ahead: u32,
}

impl DateBounds {
    fn not_too_early(&self, d: NaiveDate) -> Result<NaiveDate, String> {
        if d < self.earliest {
            Err(format!(
                "{d} is before {}, the start of the epidemic",
                self.earliest
            ))
        } else {
            Ok(d)
        }
    }

    /// A date that has happened: from `earliest` to today.
    pub fn past(&self, d: NaiveDate) -> Result<NaiveDate, String> {
        if d > self.today {
            return Err(format!("{d} is in the future (today is {})", self.today));
        }
        self.not_too_early(d)
    }

    /// A date that may lie a little ahead (a journey declared before leaving).
    pub fn planned(&self, d: NaiveDate) -> Result<NaiveDate, String> {
        if d > self.today + Duration::days(i64::from(self.days_ahead)) {
            return Err(format!(
                "{d} is more than {} days ahead (today is {})",
                self.days_ahead, self.today
            ));
        }
        self.not_too_early(d)
    }

    /// Parses `YYYY-MM-DD` and checks it with `check` (e.g. [`DateBounds::past`]).
    pub fn parse(
        &self,
        s: &str,
        check: fn(&DateBounds, NaiveDate) -> Result<NaiveDate, String>,
    ) -> Result<NaiveDate, String> {
        let d = NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
            .map_err(|_| format!("must be YYYY-MM-DD, got {s:?}"))?;
        check(self, d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_normalised_then_measured_and_controls_are_refused() {
        // "ệ" typed as e + two combining marks is one character once normalised.
        assert_eq!(clean_text(" Nghe\u{0323}\u{0302} ", 5).unwrap(), "Nghệ");
        assert!(clean_text("a\u{0}b", 10).is_err());
        assert!(clean_text("abc\u{202E}fed", 10).is_err());
        assert!(clean_text("line\nbreak", 20).is_err());
        assert!(clean_text("   ", 10).is_err());
        assert!(clean_text("abcdef", 5).is_err());
    }

    #[test]
    fn dates_stay_inside_the_epidemic() {
        let b = DateBounds {
            earliest: NaiveDate::from_ymd_opt(2019, 12, 1).unwrap(),
            today: NaiveDate::from_ymd_opt(2026, 11, 26).unwrap(),
            days_ahead: 30,
        };
        assert!(b.parse("0000-01-01", DateBounds::past).is_err());
        assert!(b.parse("9999-12-31", DateBounds::planned).is_err());
        assert!(b.parse("2026-11-27", DateBounds::past).is_err());
        assert!(b.parse("2026-12-20", DateBounds::planned).is_ok());
        assert!(b.parse("2019-12-01", DateBounds::past).is_ok());
        assert!(b.parse("26/11/2026", DateBounds::past).is_err());
    }
}
