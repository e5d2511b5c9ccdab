//! The citizen identity card number (CCCD, *căn cước công dân*): 12 digits `AAA G YY NNNNNN`.
//!
//! AAA is the province where the birth was registered (001–096), G encodes century and sex (even = male,
//! odd = female; 0/1 = 1900s, 2/3 = 2000s, 4/5 = 2100s, …), YY are the last two digits of the birth year and
//! NNNNNN is a serial. There is no check digit, so the only checks possible are shape and agreement with the
//! declared sex and birth date.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Sex {
    #[serde(rename = "M")]
    Male,
    #[serde(rename = "F")]
    Female,
}

impl Sex {
    pub fn parse(s: &str) -> Result<Sex, String> {
        match s.trim() {
            "M" | "m" => Ok(Sex::Male),
            "F" | "f" => Ok(Sex::Female),
            other => Err(format!("sex must be M or F, got {other:?}")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Sex::Male => "M",
            Sex::Female => "F",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CitizenIdError {
    #[error("citizen id must be exactly 12 digits")]
    Shape,
    #[error("citizen id province code {0:03} is not a province (001–096)")]
    Province(u16),
    #[error("citizen id digit 4 ({digit}) means {meaning}, but the declared {what}")]
    CenturySex {
        digit: u8,
        meaning: String,
        what: String,
    },
    #[error("citizen id digits 5–6 ({digits:02}) do not match birth year {year}")]
    Year { digits: u8, year: i32 },
}

impl crate::AsProblem for CitizenIdError {
    fn problem(&self) -> crate::Problem {
        match self {
            CitizenIdError::Shape => crate::Problem::CitizenIdShape,
            CitizenIdError::Province(_) => crate::Problem::CitizenIdProvince,
            CitizenIdError::CenturySex { .. } | CitizenIdError::Year { .. } => {
                crate::Problem::CitizenIdHolder
            }
        }
    }
}

/// A citizen id whose shape is valid. Agreement with sex and birth date is checked by [`CitizenId::check_holder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitizenId([u8; 12]);

impl CitizenId {
    pub fn parse(s: &str) -> Result<CitizenId, CitizenIdError> {
        let bytes: [u8; 12] = s
            .trim()
            .as_bytes()
            .try_into()
            .map_err(|_| CitizenIdError::Shape)?;
        if !bytes.iter().all(u8::is_ascii_digit) {
            return Err(CitizenIdError::Shape);
        }
        let id = CitizenId(bytes);
        match id.province() {
            1..=96 => Ok(id),
            p => Err(CitizenIdError::Province(p)),
        }
    }

    fn digits(&self, range: std::ops::Range<usize>) -> u16 {
        self.0[range]
            .iter()
            .fold(0, |n, d| n * 10 + u16::from(d - b'0'))
    }

    /// The id as a number, as compact logs (visits) store it; `{:012}` gives the id back.
    pub fn number(&self) -> i64 {
        self.0.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
    }

    pub fn province(&self) -> u16 {
        self.digits(0..3)
    }

    fn century_sex_digit(&self) -> u8 {
        self.0[3] - b'0'
    }

    /// The first century the id can belong to: 1900 for G=0/1, 2000 for 2/3, and so on.
    pub fn century(&self) -> i32 {
        1900 + i32::from(self.century_sex_digit() / 2) * 100
    }

    pub fn sex(&self) -> Sex {
        if self.century_sex_digit().is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    pub fn birth_year(&self) -> i32 {
        self.century() + i32::from(self.digits(4..6))
    }

    /// Checks that the holder's declared sex and birth date agree with digits G and YY.
    pub fn check_holder(&self, sex: Sex, date_of_birth: NaiveDate) -> Result<(), CitizenIdError> {
        let year = date_of_birth.year();
        let digit = self.century_sex_digit();
        let meaning = || {
            format!(
                "{} born in the {}s",
                if self.sex() == Sex::Male {
                    "male"
                } else {
                    "female"
                },
                self.century()
            )
        };
        if self.sex() != sex {
            return Err(CitizenIdError::CenturySex {
                digit,
                meaning: meaning(),
                what: format!("sex is {}", sex.as_str()),
            });
        }
        if year.div_euclid(100) * 100 != self.century() {
            return Err(CitizenIdError::CenturySex {
                digit,
                meaning: meaning(),
                what: format!("birth year is {year}"),
            });
        }
        if self.birth_year() != year {
            return Err(CitizenIdError::Year {
                digits: self.digits(4..6) as u8,
                year,
            });
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("digits are ASCII")
    }

    /// The form shown on passes and scanner screens: first three and last three digits, e.g. `094******123`.
    pub fn masked(&self) -> String {
        format!("{}******{}", &self.as_str()[..3], &self.as_str()[9..])
    }
}

impl fmt::Display for CitizenId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CitizenId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CitizenId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        CitizenId::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_decodes_digits() {
        let id = CitizenId::parse("094090123456").unwrap();
        assert_eq!(id.province(), 94);
        assert_eq!(id.sex(), Sex::Male);
        assert_eq!(id.birth_year(), 1990);
        assert_eq!(id.masked(), "094******456");
        let id = CitizenId::parse("094305000001").unwrap();
        assert_eq!((id.sex(), id.birth_year()), (Sex::Female, 2005));
    }

    #[test]
    fn rejects_bad_shapes_and_provinces() {
        for bad in [
            "",
            "09419012345",
            "0940901234567",
            "09419012345a",
            "０９４190123456",
        ] {
            assert_eq!(CitizenId::parse(bad), Err(CitizenIdError::Shape), "{bad}");
        }
        assert_eq!(
            CitizenId::parse("000190123456"),
            Err(CitizenIdError::Province(0))
        );
        assert_eq!(
            CitizenId::parse("097190123456"),
            Err(CitizenIdError::Province(97))
        );
    }

    #[test]
    fn holder_must_agree_with_century_sex_and_year() {
        let id = CitizenId::parse("094090123456").unwrap();
        assert!(id.check_holder(Sex::Male, date("1990-05-17")).is_ok());
        assert!(matches!(
            id.check_holder(Sex::Female, date("1990-05-17")),
            Err(CitizenIdError::CenturySex { .. })
        ));
        assert!(matches!(
            id.check_holder(Sex::Male, date("2090-05-17")),
            Err(CitizenIdError::CenturySex { .. })
        ));
        assert_eq!(
            id.check_holder(Sex::Male, date("1991-05-17")),
            Err(CitizenIdError::Year {
                digits: 90,
                year: 1991
            })
        );
    }

    proptest! {
        #[test]
        fn every_valid_holder_round_trips(province in 1u16..=96, year in 1900i32..2100, female: bool, serial in 0u32..1_000_000) {
            let g = (year / 100 - 19) * 2 + i32::from(female);
            let s = format!("{province:03}{g}{:02}{serial:06}", year % 100);
            let id = CitizenId::parse(&s).unwrap();
            let sex = if female { Sex::Female } else { Sex::Male };
            prop_assert_eq!(id.as_str(), s.as_str());
            prop_assert!(id.check_holder(sex, NaiveDate::from_ymd_opt(year, 6, 1).unwrap()).is_ok());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,20}") {
            let _ = CitizenId::parse(&s);
        }
    }
}
