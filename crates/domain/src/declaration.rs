//! The national domestic health declaration (*tờ khai y tế nội địa*) and the identity check against the registry.
//!
//! A declaration is stored whole and immutable; every field other than identity and contact is optional so
//! that an officer copying a paper form can submit what the form holds.

use crate::input::{DateBounds, clean_text};
use crate::person::parse_birth_date;
use crate::{CitizenId, FieldErrors, FullName, Phone, RegistryRecord, Sex, UnitCode};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

string_enum!(
    /// Symptoms in the 14 days before declaring.
    Symptom { Fever = "fever", Cough = "cough", ShortnessOfBreath = "shortness_of_breath", SoreThroat = "sore_throat",
              Fatigue = "fatigue", LossOfTasteOrSmell = "loss_of_taste_or_smell", ChestPain = "chest_pain",
              Confusion = "confusion" }
);

string_enum!(
    /// Exposures in the 14 days before declaring. `Proximity`: the person's proximity-tracing app matched a
    /// published case's keys (only the person, declaring, tells the server: phones report no matches).
    Exposure { CaseOrSuspected = "case_or_suspected", AffectedArea = "affected_area", Symptomatic = "symptomatic",
               Proximity = "proximity" }
);

string_enum!(
    TravelMode { Air = "air", Train = "train", Coach = "coach", Boat = "boat", PrivateVehicle = "private_vehicle" }
);

/// A journey declared on the form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Travel {
    pub mode: TravelMode,
    pub vehicle_number: Option<String>,
    pub seat: Option<String>,
    pub departure_unit: Option<UnitCode>,
    pub departure_date: Option<NaiveDate>,
    pub destination_unit: Option<UnitCode>,
}

/// One person's part of a declaration, parsed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclaredPerson {
    pub citizen_id: Option<CitizenId>,
    pub passport_number: Option<String>,
    pub full_name: FullName,
    pub date_of_birth: NaiveDate,
    pub sex: Sex,
    pub nationality: String,
    pub commune_code: UnitCode,
    pub street: Option<String>,
    pub phone: Option<Phone>,
    pub email: Option<String>,
    pub travel: Option<Travel>,
    pub places_visited: Vec<String>,
    pub symptoms: Vec<Symptom>,
    pub exposures: Vec<Exposure>,
    /// The day of a proximity exposure, as the app reported it (given, the exposure is ticked).
    #[serde(default)]
    pub proximity_exposure_date: Option<NaiveDate>,
    pub conditions: Vec<String>,
    /// An officer attests that they saw this person's identity document: needed to declare for someone whose
    /// registry commune lies outside the officer's jurisdiction (a worker living away from home).
    pub identity_document_checked: bool,
}

/// Who submitted a declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Submitter {
    /// The resident, confirmed by a one-time code to the phone in the registry.
    SelfDeclared { citizen_id: CitizenId },
    /// An officer copying a paper form, or acting at a desk; `actor` is the account or token
    /// (`staff:ID`, `token:ID`) as the audit log names it.
    Officer { actor: String, name: String },
}

/// The outcome of comparing a declared person with the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityCheck {
    Matched,
    Mismatch(Vec<&'static str>),
    NotFound,
    /// Foreigners declare with a passport, which no registry here can confirm.
    Unverifiable,
}

string_enum!(
    /// What comparing a declared person with the registry found, without which fields differ: as a
    /// declaration's people are stored and answered.
    IdentityOutcome { Matched = "matched", Mismatch = "mismatch", NotFound = "not_found",
                      Unverifiable = "unverifiable" }
);

impl IdentityCheck {
    pub fn outcome(&self) -> IdentityOutcome {
        match self {
            IdentityCheck::Matched => IdentityOutcome::Matched,
            IdentityCheck::Mismatch(_) => IdentityOutcome::Mismatch,
            IdentityCheck::NotFound => IdentityOutcome::NotFound,
            IdentityCheck::Unverifiable => IdentityOutcome::Unverifiable,
        }
    }

    pub fn mismatched_fields(&self) -> &[&'static str] {
        match self {
            IdentityCheck::Mismatch(f) => f,
            _ => &[],
        }
    }
}

impl DeclaredPerson {
    /// Compares id, name (folded) and birth date with the registry record found for the id, if any.
    pub fn check_identity(&self, record: Option<&RegistryRecord>) -> IdentityCheck {
        if self.citizen_id.is_none() {
            return IdentityCheck::Unverifiable;
        }
        let Some(record) = record else {
            return IdentityCheck::NotFound;
        };
        let mut fields = Vec::new();
        if Some(record.citizen_id) != self.citizen_id {
            fields.push("citizen_id");
        }
        if record.full_name.folded() != self.full_name.folded() {
            fields.push("full_name");
        }
        if record.date_of_birth != self.date_of_birth {
            fields.push("date_of_birth");
        }
        if fields.is_empty() {
            IdentityCheck::Matched
        } else {
            IdentityCheck::Mismatch(fields)
        }
    }
}

/// One person as sent by a client; every field is text so that each problem can be reported by name.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RawPerson {
    pub citizen_id: Option<String>,
    pub passport_number: Option<String>,
    pub full_name: String,
    pub date_of_birth: String,
    pub sex: String,
    pub nationality: Option<String>,
    pub commune_code: String,
    pub street: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub travel: Option<RawTravel>,
    pub places_visited: Vec<String>,
    pub symptoms: Vec<String>,
    pub exposures: Vec<String>,
    pub proximity_exposure_date: Option<String>,
    pub conditions: Vec<String>,
    pub identity_document_checked: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RawTravel {
    pub mode: String,
    pub vehicle_number: Option<String>,
    pub seat: Option<String>,
    pub departure_unit: Option<String>,
    pub departure_date: Option<String>,
    pub destination_unit: Option<String>,
}

const MAX_TEXT: usize = 200;
const MAX_LIST: usize = 50;

/// An optional free-text field: blank means absent.
fn short_text(errs: &mut FieldErrors, field: &str, s: &Option<String>) -> Option<String> {
    let s = s.as_deref().filter(|s| !s.trim().is_empty())?;
    errs.check(field, free_text(s))
}

/// A list of entries, each parsed; a repeated entry is kept once.
fn list<T: PartialEq>(
    errs: &mut FieldErrors,
    field: &str,
    items: &[String],
    parse: impl Fn(&str) -> Result<T, String>,
) -> Vec<T> {
    if items.len() > MAX_LIST {
        errs.push(field, format!("more than {MAX_LIST} entries"));
        return Vec::new();
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (i, s) in items.iter().enumerate() {
        if let Some(v) = errs.check(format!("{field}[{i}]"), parse(s))
            && !parsed.contains(&v)
        {
            parsed.push(v);
        }
    }
    parsed
}

fn free_text(s: &str) -> Result<String, String> {
    clean_text(s, MAX_TEXT)
}

impl RawTravel {
    fn parse(&self, errs: &mut FieldErrors, at: &str, dates: &DateBounds) -> Option<Travel> {
        let f = |name: &str| format!("{at}.{name}");
        let mode = errs.check(f("mode"), TravelMode::parse(&self.mode));
        let unit = |errs: &mut FieldErrors, name: &str, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .and_then(|s| errs.check(f(name), UnitCode::parse(s)))
        };
        let departure_unit = unit(errs, "departure_unit", &self.departure_unit);
        let destination_unit = unit(errs, "destination_unit", &self.destination_unit);
        let departure_date = self
            .departure_date
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| errs.check(f("departure_date"), dates.parse(s, DateBounds::planned)));
        Some(Travel {
            mode: mode?,
            vehicle_number: short_text(errs, &f("vehicle_number"), &self.vehicle_number),
            seat: short_text(errs, &f("seat"), &self.seat),
            departure_unit,
            departure_date,
            destination_unit,
        })
    }
}

impl RawPerson {
    /// Parses one person; field names in errors are prefixed with `at` (e.g. `people[1]`); dates must lie
    /// inside `dates`.
    pub fn parse(&self, at: &str, dates: &DateBounds) -> Result<DeclaredPerson, FieldErrors> {
        let mut errs = FieldErrors::default();
        let f = |name: &str| format!("{at}.{name}");
        let citizen_id = self.citizen_id.as_deref().filter(|s| !s.trim().is_empty());
        let passport_number = short_text(&mut errs, &f("passport_number"), &self.passport_number);
        let citizen_id = match (citizen_id, &passport_number) {
            (Some(id), _) => errs.check(f("citizen_id"), CitizenId::parse(id)),
            (None, Some(_)) => None,
            (None, None) => {
                errs.push(
                    f("citizen_id"),
                    "a citizen id (or, for foreigners, a passport number) is required",
                );
                None
            }
        };
        let full_name = errs.check(f("full_name"), FullName::parse(&self.full_name));
        let date_of_birth = errs.check(f("date_of_birth"), parse_birth_date(&self.date_of_birth));
        let sex = errs.check(f("sex"), Sex::parse(&self.sex));
        if let (Some(id), Some(sex), Some(dob)) = (&citizen_id, sex, date_of_birth) {
            errs.check(f("citizen_id"), id.check_holder(sex, dob));
        }
        let commune_code = errs.check(f("commune_code"), UnitCode::parse(&self.commune_code));
        let phone = self
            .phone
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|p| errs.check(f("phone"), Phone::parse(p)));
        let email = short_text(&mut errs, &f("email"), &self.email);
        if email.as_deref().is_some_and(|e| !e.contains('@')) {
            errs.push(f("email"), "email must contain @");
        }
        let nationality = self
            .nationality
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("VN");
        if !(nationality.len() == 2 && nationality.bytes().all(|b| b.is_ascii_uppercase())) {
            errs.push(
                f("nationality"),
                "nationality must be an ISO 3166 alpha-2 code such as VN",
            );
        }
        if citizen_id.is_some() && nationality != "VN" {
            errs.push(
                f("nationality"),
                "a citizen id belongs to a Vietnamese national (VN)",
            );
        }
        let travel = self
            .travel
            .as_ref()
            .and_then(|t| t.parse(&mut errs, &f("travel"), dates));
        let mut exposures = list(&mut errs, &f("exposures"), &self.exposures, Exposure::parse);
        let proximity_exposure_date = self
            .proximity_exposure_date
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| {
                errs.check(
                    f("proximity_exposure_date"),
                    dates.parse(s, DateBounds::past),
                )
            });
        if proximity_exposure_date.is_some() && !exposures.contains(&Exposure::Proximity) {
            exposures.push(Exposure::Proximity);
        }
        let person = DeclaredPerson {
            citizen_id,
            passport_number,
            full_name: full_name.unwrap_or_else(|| FullName::parse("x").expect("valid")),
            date_of_birth: date_of_birth.unwrap_or_default(),
            sex: sex.unwrap_or(Sex::Male),
            nationality: nationality.to_owned(),
            commune_code: commune_code.unwrap_or_else(|| UnitCode::parse("00").expect("valid")),
            street: short_text(&mut errs, &f("street"), &self.street),
            phone,
            email,
            travel,
            places_visited: list(
                &mut errs,
                &f("places_visited"),
                &self.places_visited,
                free_text,
            ),
            symptoms: list(&mut errs, &f("symptoms"), &self.symptoms, Symptom::parse),
            exposures,
            proximity_exposure_date,
            conditions: list(&mut errs, &f("conditions"), &self.conditions, free_text),
            identity_document_checked: self.identity_document_checked,
        };
        errs.into_result(|| person)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawPerson {
        RawPerson {
            citizen_id: Some("094090123456".into()),
            full_name: "Nguyễn Văn An".into(),
            date_of_birth: "1990-05-17".into(),
            sex: "M".into(),
            commune_code: "31498".into(),
            phone: Some("0912345678".into()),
            ..Default::default()
        }
    }

    fn dates() -> DateBounds {
        crate::Rules::default().dates_at(chrono::Utc::now().timestamp())
    }

    #[test]
    fn text_is_bounded_and_lists_are_deduplicated() {
        let mut r = raw();
        r.symptoms = vec!["fever".into(); 40];
        r.conditions = vec!["hen suyễn".into(), "hen suyễn".into()];
        let p = r.parse("people[0]", &dates()).unwrap();
        assert_eq!(p.symptoms, [Symptom::Fever]);
        assert_eq!(p.conditions.len(), 1);
        r.street = Some("Đường 30/4\u{0}".into());
        r.conditions = vec!["a\u{202E}b".into()];
        r.travel = Some(RawTravel {
            mode: "air".into(),
            departure_date: Some("9999-12-31".into()),
            ..Default::default()
        });
        let fields: Vec<String> = r
            .parse("people[0]", &dates())
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "people[0].travel.departure_date",
                "people[0].street",
                "people[0].conditions[0]"
            ]
        );
    }

    fn record() -> RegistryRecord {
        RegistryRecord {
            citizen_id: CitizenId::parse("094090123456").unwrap(),
            full_name: FullName::parse("NGUYEN VAN AN").unwrap(),
            date_of_birth: "1990-05-17".parse().unwrap(),
            sex: Sex::Male,
            commune_code: UnitCode::parse("31498").unwrap(),
            address: String::new(),
            phone: None,
            household_id: None,
        }
    }

    #[test]
    fn minimal_person_parses() {
        let p = raw().parse("people[0]", &dates()).unwrap();
        assert_eq!(p.nationality, "VN");
        assert!(p.symptoms.is_empty());
        assert_eq!(p.check_identity(Some(&record())), IdentityCheck::Matched);
        assert_eq!(p.check_identity(None), IdentityCheck::NotFound);
    }

    #[test]
    fn a_proximity_exposure_day_ticks_the_exposure_and_must_be_past() {
        let d = dates();
        let mut r = raw();
        r.proximity_exposure_date = Some((d.today - chrono::Duration::days(3)).to_string());
        let p = r.parse("people[0]", &d).unwrap();
        assert_eq!(p.exposures, [Exposure::Proximity]);
        assert_eq!(
            p.proximity_exposure_date,
            Some(d.today - chrono::Duration::days(3))
        );
        assert_eq!(
            crate::HealthStatus::from_declaration(&p),
            crate::HealthStatus::Yellow
        );
        // Ticked as well: kept once.
        r.exposures = vec!["proximity".into()];
        assert_eq!(r.parse("people[0]", &d).unwrap().exposures.len(), 1);
        r.proximity_exposure_date = Some((d.today + chrono::Duration::days(1)).to_string());
        let errs = r.parse("people[0]", &d).unwrap_err();
        assert!(
            format!("{errs:?}").contains("people[0].proximity_exposure_date"),
            "{errs:?}"
        );
        r.proximity_exposure_date = Some("  ".into());
        assert_eq!(
            r.parse("people[0]", &d).unwrap().proximity_exposure_date,
            None
        );
    }

    #[test]
    fn identity_check_names_the_fields_that_differ() {
        let mut r = raw();
        r.full_name = "Nguyễn Văn Ân Hai".into();
        r.date_of_birth = "1990-05-18".into();
        let p = r.parse("people[0]", &dates()).unwrap();
        assert_eq!(
            p.check_identity(Some(&record())),
            IdentityCheck::Mismatch(vec!["full_name", "date_of_birth"])
        );
    }

    #[test]
    fn every_bad_field_is_reported_with_its_path() {
        let mut r = raw();
        r.citizen_id = Some("12345".into());
        r.sex = "X".into();
        r.symptoms = vec!["fever".into(), "sneezing".into()];
        r.travel = Some(RawTravel {
            mode: "rocket".into(),
            departure_date: Some("yesterday".into()),
            ..Default::default()
        });
        let errs = r.parse("people[2]", &dates()).unwrap_err();
        let fields: Vec<&str> = errs.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "people[2].citizen_id",
                "people[2].sex",
                "people[2].travel.mode",
                "people[2].travel.departure_date",
                "people[2].symptoms[1]"
            ]
        );
    }

    #[test]
    fn foreigners_declare_with_a_passport_and_are_unverifiable() {
        let mut r = raw();
        r.citizen_id = None;
        r.passport_number = Some("C1234567".into());
        r.nationality = Some("KR".into());
        let p = r.parse("people[0]", &dates()).unwrap();
        assert_eq!(
            p.check_identity(Some(&record())),
            IdentityCheck::Unverifiable
        );
        r.passport_number = None;
        assert!(r.parse("people[0]", &dates()).is_err());
    }
}
