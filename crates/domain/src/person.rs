//! People as the population registry knows them: names, phones and the registry record itself.

use crate::{CitizenId, FieldErrors, Sex, UnitCode};
use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// A person's full name exactly as typed (trimmed), with its folded key for matching computed once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FullName {
    typed: String,
    folded: String,
}

pub const MAX_NAME_CHARS: usize = 100;
const MAX_ADDRESS_CHARS: usize = 300;

impl FullName {
    pub fn parse(s: &str) -> Result<FullName, String> {
        let s = s.trim();
        if s.is_empty() {
            return Err("full name is empty".into());
        }
        if s.chars().count() > MAX_NAME_CHARS {
            return Err(format!(
                "full name is longer than {MAX_NAME_CHARS} characters"
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_alphabetic() || is_combining(*c) || " '-.".contains(*c)))
        {
            return Err(format!(
                "full name contains {c:?}; only letters, spaces, apostrophes, hyphens and dots are allowed"
            ));
        }
        Ok(FullName {
            typed: s.to_owned(),
            folded: fold(s),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.typed
    }

    /// The matching key: case, Vietnamese diacritics (including đ) and runs of spaces folded away, so that
    /// "NGUYỄN  văn An" and "Nguyen Van An" match while the record keeps what was typed.
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

fn is_combining(c: char) -> bool {
    ('\u{0300}'..='\u{036F}').contains(&c)
}

/// Folds case, diacritics and spacing; see [`FullName::folded`].
pub fn fold(s: &str) -> String {
    let stripped: String = s
        .nfd()
        .filter(|c| !is_combining(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    stripped.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl TryFrom<String> for FullName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        FullName::parse(&s)
    }
}

impl From<FullName> for String {
    fn from(n: FullName) -> String {
        n.typed
    }
}

/// A Vietnamese phone number in national form (`0` and 9–10 more digits). Accepts `+84`/`84` and separators.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(s: &str) -> Result<Phone, String> {
        let digits: String = s.chars().filter(|c| !" .-()".contains(*c)).collect();
        let national = if let Some(rest) = digits.strip_prefix("+84") {
            format!("0{rest}")
        } else {
            digits
        };
        let ok = national.starts_with('0')
            && matches!(national.len(), 10 | 11)
            && national.bytes().all(|b| b.is_ascii_digit())
            && !national.starts_with("00");
        if ok {
            Ok(Phone(national))
        } else {
            Err(format!(
                "phone must be a Vietnamese number like 0912345678, got {s:?}"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Shown where a person must recognise their own number: `091****678`.
    pub fn masked(&self) -> String {
        let n = &self.0;
        format!("{}****{}", &n[..3], &n[n.len() - 3..])
    }
}

impl TryFrom<String> for Phone {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Phone::parse(&s)
    }
}

impl From<Phone> for String {
    fn from(p: Phone) -> String {
        p.0
    }
}

/// A birth date: ISO 8601, not in the future, not before 1900.
pub fn parse_birth_date(s: &str) -> Result<NaiveDate, String> {
    let d: NaiveDate = s
        .trim()
        .parse()
        .map_err(|_| format!("date must be YYYY-MM-DD, got {s:?}"))?;
    if d > Utc::now().date_naive() {
        return Err(format!("birth date {d} is in the future"));
    }
    if d < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
        return Err(format!("birth date {d} is before 1900"));
    }
    Ok(d)
}

/// One person in the population registry (the stand-in for the national population database).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryRecord {
    pub citizen_id: CitizenId,
    pub full_name: FullName,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub commune_code: UnitCode,
    pub address: String,
    pub phone: Option<Phone>,
    /// The household (*hộ gia đình*) the registry puts this person in: a resident may declare for the
    /// members of their own household, and no one else.
    pub household_id: Option<HouseholdId>,
}

/// A household's number in the registry (*số hộ khẩu*): 1 to 40 letters, digits, dashes or underscores.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HouseholdId(String);

impl HouseholdId {
    pub fn parse(s: &str) -> Result<HouseholdId, String> {
        let s = s.trim();
        let ok = (1..=40).contains(&s.len())
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b));
        if ok {
            Ok(HouseholdId(s.to_owned()))
        } else {
            Err(format!(
                "household id must be 1 to 40 letters, digits, dashes or underscores, got {s:?}"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for HouseholdId {
    type Error = String;
    fn try_from(s: String) -> Result<HouseholdId, String> {
        HouseholdId::parse(&s)
    }
}

impl From<HouseholdId> for String {
    fn from(h: HouseholdId) -> String {
        h.0
    }
}

/// The raw text fields of a registry row, as they come from a CSV line or a form.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawRegistryRow {
    pub citizen_id: String,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub commune_code: String,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub phone: String,
    /// Optional eighth column of the population file.
    #[serde(default)]
    pub household_id: String,
}

impl RawRegistryRow {
    /// The columns of a population file, in order; those after the first [`RawRegistryRow::REQUIRED`] may be
    /// left out.
    pub const COLUMNS: [&str; 8] = [
        "citizen_id",
        "full_name",
        "date_of_birth",
        "sex",
        "commune_code",
        "address",
        "phone",
        "household_id",
    ];
    pub const REQUIRED: usize = 7;
}

impl RegistryRecord {
    /// Parses every field and the id's agreement with sex and birth date, reporting all problems at once.
    /// Whether the commune exists is checked by the caller, which holds the unit tree.
    pub fn parse(raw: &RawRegistryRow) -> Result<RegistryRecord, FieldErrors> {
        let mut errs = FieldErrors::default();
        let citizen_id = errs.check("citizen_id", CitizenId::parse(&raw.citizen_id));
        let full_name = errs.check("full_name", FullName::parse(&raw.full_name));
        let date_of_birth = errs.check("date_of_birth", parse_birth_date(&raw.date_of_birth));
        let sex = errs.check("sex", Sex::parse(&raw.sex));
        let commune_code = errs.check("commune_code", UnitCode::parse(&raw.commune_code));
        let phone = match raw.phone.trim() {
            "" => None,
            p => errs.check("phone", Phone::parse(p)),
        };
        if let (Some(id), Some(sex), Some(dob)) = (&citizen_id, sex, date_of_birth) {
            errs.check("citizen_id", id.check_holder(sex, dob));
        }
        let address = match raw.address.trim() {
            "" => String::new(),
            a => errs
                .check("address", crate::input::clean_text(a, MAX_ADDRESS_CHARS))
                .unwrap_or_default(),
        };
        let household_id = match raw.household_id.trim() {
            "" => None,
            h => errs.check("household_id", HouseholdId::parse(h)),
        };
        errs.into_result(|| RegistryRecord {
            citizen_id: citizen_id.expect("checked"),
            full_name: full_name.expect("checked"),
            date_of_birth: date_of_birth.expect("checked"),
            sex: sex.expect("checked"),
            commune_code: commune_code.expect("checked"),
            address,
            phone,
            household_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case_diacritics_and_spacing() {
        let a = FullName::parse("  Nguyễn   Văn Đức ").unwrap();
        assert_eq!(a.as_str(), "Nguyễn   Văn Đức");
        assert_eq!(a.folded(), "nguyen van duc");
        assert_eq!(fold("NGUYEN VAN DUC"), a.folded());
        // Decomposed input (as some keyboards send) folds the same as precomposed.
        assert_eq!(fold("Nguye\u{0302}\u{0303}n"), fold("Nguyễn"));
        assert_ne!(fold("Nguyễn Văn An"), fold("Nguyễn Văn Ân Hai"));
    }

    #[test]
    fn names_reject_digits_and_symbols() {
        assert!(FullName::parse("Nguyễn V4n An").is_err());
        assert!(FullName::parse("<script>").is_err());
        assert!(FullName::parse("").is_err());
        assert!(FullName::parse(&"a".repeat(101)).is_err());
        assert!(FullName::parse("H'Hen Niê").is_ok());
    }

    #[test]
    fn phones_normalise_to_national_form() {
        assert_eq!(
            Phone::parse("+84 912 345 678").unwrap().as_str(),
            "0912345678"
        );
        assert_eq!(Phone::parse("0912.345.678").unwrap().masked(), "091****678");
        for bad in ["912345678", "09123", "0912345678901", "abc", "0012345678"] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_row_reports_every_bad_field() {
        let raw = RawRegistryRow {
            citizen_id: "094090123456".into(),
            full_name: "Trần Thị Bé".into(),
            date_of_birth: "1990-02-30".into(),
            sex: "X".into(),
            commune_code: "3149".into(),
            address: "Ấp 3\u{0}".into(),
            phone: "12".into(),
            household_id: "HK 12".into(),
        };
        let errs = RegistryRecord::parse(&raw).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "date_of_birth",
                "sex",
                "commune_code",
                "phone",
                "address",
                "household_id"
            ]
        );
    }

    #[test]
    fn registry_row_checks_id_against_holder() {
        let raw = RawRegistryRow {
            citizen_id: "094090123456".into(),
            full_name: "Trần Thị Bé".into(),
            date_of_birth: "1990-02-03".into(),
            sex: "F".into(),
            commune_code: "31498".into(),
            ..Default::default()
        };
        let errs = RegistryRecord::parse(&raw).unwrap_err();
        assert_eq!(errs.0[0].field, "citizen_id");
        assert!(errs.0[0].message.contains("male"), "{}", errs.0[0].message);
    }
}
