//! What a checkpoint needs from a certificate that verified: who it names and what it attests. Read once from
//! the schema-checked payload, so that callers never index JSON.

use crate::CertType;
use chrono::NaiveDate;
use serde_json::Value as Json;

/// The holder and the one entry of a verified certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    /// Given names then family name, as printed on the holder's passport (`gn fn`, or the transliterated
    /// `gnt fnt` when the plain ones are absent).
    pub name: String,
    /// The date of birth as written: `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, or empty when unknown.
    pub date_of_birth: String,
    pub kind: CertType,
    /// The unique certificate identifier of the entry (`ci`).
    pub uvci: String,
    /// The country of the event (`co`), ISO 3166 alpha-2.
    pub country: String,
    /// For a vaccination certificate: the dose number, doses in the series and the date given.
    pub vaccination: Option<DoseEntry>,
}

/// A vaccination entry (`v`): dose `dn` of `sd`, given on `dt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DoseEntry {
    pub dose: u8,
    pub series: u8,
    pub date: NaiveDate,
}

/// A string member, trimmed.
fn text<'a>(v: &'a Json, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Json::as_str).map(str::trim)
}

impl Presented {
    /// Reads a payload that passed the schema; `None` when it lacks what a checkpoint needs (no entry, no
    /// certificate identifier, or a vaccination without a readable date).
    pub fn from_payload(payload: &Json) -> Option<Presented> {
        let nam = payload.get("nam")?;
        let part = |plain: &str, icao: &str| {
            text(nam, plain)
                .filter(|s| !s.is_empty())
                .or_else(|| text(nam, icao))
                .unwrap_or("")
                .replace('<', " ")
        };
        let name = [part("gn", "gnt"), part("fn", "fnt")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let kind = CertType::ALL
            .into_iter()
            .find(|k| payload.get(k.key()).is_some())?;
        let entry = payload.get(kind.key())?.as_array()?.first()?;
        let vaccination = match kind {
            CertType::Vaccination => {
                let count = |key: &str| {
                    entry
                        .get(key)
                        .and_then(Json::as_u64)
                        .map(|n| u8::try_from(n).unwrap_or(u8::MAX))
                };
                Some(DoseEntry {
                    dose: count("dn")?,
                    series: count("sd")?,
                    date: NaiveDate::parse_from_str(text(entry, "dt")?, "%Y-%m-%d").ok()?,
                })
            }
            CertType::Test | CertType::Recovery => None,
        };
        Some(Presented {
            name,
            date_of_birth: text(payload, "dob").unwrap_or("").to_owned(),
            kind,
            uvci: text(entry, "ci").filter(|s| !s.is_empty())?.to_owned(),
            country: text(entry, "co").unwrap_or("").to_owned(),
            vaccination,
        })
    }

    /// The year of birth, when the date of birth has one.
    pub fn birth_year(&self) -> Option<i32> {
        self.date_of_birth.get(..4).and_then(|y| y.parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_a_vaccination_entry_and_prefers_plain_names() {
        let p = Presented::from_payload(&json!({
            "ver": "1.3.0", "dob": "1990-05-01",
            "nam": {"fn": "Nguyễn", "fnt": "NGUYEN", "gn": "Văn An", "gnt": "VAN<AN"},
            "v": [{"tg": "840539006", "dn": 2, "sd": 2, "dt": "2021-09-20", "co": "VN", "ci": "URN:UVCI:01:VN:ABC#X"}]
        }))
        .expect("a vaccination certificate");
        assert_eq!(p.name, "Văn An Nguyễn");
        assert_eq!(p.kind, CertType::Vaccination);
        assert_eq!(p.birth_year(), Some(1990));
        assert_eq!(p.uvci, "URN:UVCI:01:VN:ABC#X");
        let d = p.vaccination.expect("dose entry");
        assert_eq!((d.dose, d.series), (2, 2));
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2021, 9, 20).expect("date"));
    }

    #[test]
    fn a_test_certificate_has_no_dose_and_transliterated_names_fill_in() {
        let p = Presented::from_payload(&json!({
            "ver": "1.3.0", "dob": "",
            "nam": {"fnt": "MUSTERMANN", "gnt": "ERIKA<MARIA"},
            "t": [{"tg": "840539006", "co": "DE", "ci": "URN:UVCI:01:DE:T1"}]
        }))
        .expect("a test certificate");
        assert_eq!(p.name, "ERIKA MARIA MUSTERMANN");
        assert_eq!(p.kind, CertType::Test);
        assert_eq!(p.vaccination, None);
        assert_eq!(p.birth_year(), None);
    }

    #[test]
    fn no_identifier_or_no_entry_is_none() {
        let no_ci = json!({"nam": {"fnt": "A"}, "r": [{"co": "FR"}]});
        assert_eq!(Presented::from_payload(&no_ci), None);
        assert_eq!(Presented::from_payload(&json!({"nam": {"fnt": "A"}})), None);
    }
}
