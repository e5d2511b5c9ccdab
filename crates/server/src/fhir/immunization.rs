//! Immunization: a COVID-19 dose. [`ImmunizationJson`] reads one as R4 writes it; [`ImmunizationIn::check`]
//! turns it into a plain typed dose, every required element, reference and code checked, each problem an
//! [`Issue`] at its element; [`ImmunizationOut::resource`] writes a stored dose back as an Immunization.

use super::datatypes::{
    CodeableConcept, CodeableConceptIn, Coding, IdentifierIn, Ignored, Reference, ReferenceIn, text,
};
use super::outcome::{Issue, Problem};
use super::patient::{Token, TokenSystem, citizen_identifier};
use chrono::NaiveDate;
use kiemdich_domain::CitizenId;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The system of the EU value set `vaccines-covid-19-names` (`mp`) for products in the EU community
/// register (`EU/1/20/1528`, Comirnaty).
pub const MP_SYSTEM_EU: &str = "https://ec.europa.eu/health/documents/community-register/html/";
/// The value set's own system for products outside the register (`Sputnik-V`, `BBIBP-CorV`, `Hayat-Vax`).
pub const MP_SYSTEM_OTHER: &str = "http://ec.europa.eu/temp/vaccineproductname";

/// The `mp` system a product code belongs to, as the value set assigns them: register numbers (`EU/…`) to the
/// register, every other code to the value set's own system.
pub fn mp_system(product: &str) -> &'static str {
    if product.starts_with("EU/") {
        MP_SYSTEM_EU
    } else {
        MP_SYSTEM_OTHER
    }
}

/// A dose the facade accepted: the plain struct the dose store records. Every field passed its checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImmunizationIn {
    pub citizen_id: CitizenId,
    /// The product's code in the EU value set `mp` (`EU/1/21/1529`, `BBIBP-CorV`), as the sender coded it
    /// under one of the value set's systems; whether the code is in the value set is the vaccination
    /// catalogue's check.
    pub product: String,
    /// `protocolApplied.doseNumberPositiveInt`, at most `series_doses`.
    pub dose_number: u32,
    /// `protocolApplied.seriesDosesPositiveInt`.
    pub series_doses: u32,
    /// The day of `occurrenceDateTime`, in the rules' time zone when a time was given; never in the future.
    pub date: NaiveDate,
    pub lot: Option<String>,
    /// Where the dose was given: `location.display`, else the administering performer's `actor.display`.
    pub site: Option<String>,
    /// ISO 3166 alpha-2; the facade takes doses given in Vietnam.
    pub country: String,
}

/// A stored dose, as the facade writes it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImmunizationOut {
    /// The dose's id in the store: the Immunization's logical id.
    pub id: String,
    pub citizen_id: CitizenId,
    pub product: String,
    /// The product's name (`Vaxzevria`), if known.
    pub product_name: Option<String>,
    pub dose_number: u32,
    pub series_doses: u32,
    pub date: NaiveDate,
    pub lot: Option<String>,
    pub site: Option<String>,
    pub country: String,
}

/// What the dose store did with one dose of a transaction: stored it, or found it stored already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// A new dose, with its id (answered `201 Created`).
    Created(String),
    /// The same dose was stored before, with this id (answered `200 OK`).
    Unchanged(String),
}

/// An R4 Immunization as received: every element R4 defines, the ones the facade reads typed.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImmunizationJson {
    pub resource_type: String,
    pub id: Option<String>,
    #[serde(rename = "_id")]
    pub id_ext: Ignored,
    pub meta: Ignored,
    pub implicit_rules: Option<String>,
    #[serde(rename = "_implicitRules")]
    pub implicit_rules_ext: Ignored,
    pub language: Ignored,
    #[serde(rename = "_language")]
    pub language_ext: Ignored,
    pub text: Ignored,
    pub contained: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub modifier_extension: Vec<Value>,
    #[serde(default)]
    pub identifier: Vec<IdentifierIn>,
    pub status: Option<String>,
    #[serde(rename = "_status")]
    pub status_ext: Ignored,
    pub status_reason: Ignored,
    pub vaccine_code: Option<CodeableConceptIn>,
    pub patient: Option<ReferenceIn>,
    pub encounter: Ignored,
    pub occurrence_date_time: Option<String>,
    #[serde(rename = "_occurrenceDateTime")]
    pub occurrence_date_time_ext: Ignored,
    pub occurrence_string: Option<String>,
    #[serde(rename = "_occurrenceString")]
    pub occurrence_string_ext: Ignored,
    pub recorded: Ignored,
    #[serde(rename = "_recorded")]
    pub recorded_ext: Ignored,
    pub primary_source: Ignored,
    #[serde(rename = "_primarySource")]
    pub primary_source_ext: Ignored,
    pub report_origin: Ignored,
    pub location: Option<ReferenceIn>,
    pub manufacturer: Ignored,
    pub lot_number: Option<String>,
    #[serde(rename = "_lotNumber")]
    pub lot_number_ext: Ignored,
    pub expiration_date: Ignored,
    #[serde(rename = "_expirationDate")]
    pub expiration_date_ext: Ignored,
    pub site: Ignored,
    pub route: Ignored,
    pub dose_quantity: Ignored,
    #[serde(default)]
    pub performer: Vec<PerformerIn>,
    pub note: Ignored,
    pub reason_code: Ignored,
    pub reason_reference: Ignored,
    pub is_subpotent: Option<bool>,
    #[serde(rename = "_isSubpotent")]
    pub is_subpotent_ext: Ignored,
    pub subpotent_reason: Ignored,
    pub education: Ignored,
    pub program_eligibility: Ignored,
    pub funding_source: Ignored,
    pub reaction: Ignored,
    #[serde(default)]
    pub protocol_applied: Vec<ProtocolAppliedIn>,
}

/// `Immunization.performer` as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PerformerIn {
    pub id: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub modifier_extension: Vec<Value>,
    pub function: Ignored,
    pub actor: Option<ReferenceIn>,
}

/// `Immunization.protocolApplied` as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProtocolAppliedIn {
    pub id: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub modifier_extension: Vec<Value>,
    pub series: Ignored,
    #[serde(rename = "_series")]
    pub series_ext: Ignored,
    pub authority: Ignored,
    pub target_disease: Ignored,
    pub dose_number_positive_int: Option<Value>,
    #[serde(rename = "_doseNumberPositiveInt")]
    pub dose_number_positive_int_ext: Ignored,
    pub dose_number_string: Option<String>,
    #[serde(rename = "_doseNumberString")]
    pub dose_number_string_ext: Ignored,
    pub series_doses_positive_int: Option<Value>,
    #[serde(rename = "_seriesDosesPositiveInt")]
    pub series_doses_positive_int_ext: Ignored,
    pub series_doses_string: Option<String>,
    #[serde(rename = "_seriesDosesString")]
    pub series_doses_string_ext: Ignored,
}

/// What a check needs besides the resource.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The identifier system of citizen ids.
    pub citizen_system: &'a str,
    /// Today in the rules' time zone: no dose is given later.
    pub today: NaiveDate,
    /// The rules' offset from UTC in hours, for an `occurrenceDateTime` with a time.
    pub utc_offset_hours: i32,
}

/// The most doses a series may have (boosters included); a larger number is a typing error.
pub const MAX_SERIES_DOSES: u32 = 10;

impl ImmunizationIn {
    /// Reads `resource` (the JSON of one Immunization) at `path` (`Bundle.entry[2].resource`): the dose, or
    /// every problem found, each at its element.
    pub fn check(
        resource: Value,
        path: &str,
        cx: CheckContext<'_>,
    ) -> Result<ImmunizationIn, Vec<Issue>> {
        let kind = resource.get("resourceType").and_then(Value::as_str);
        if kind != Some("Immunization") {
            return Err(vec![Issue::new(
                Problem::Structure,
                path,
                format!(
                    "expected an Immunization, got {}",
                    kind.map_or_else(|| "no resourceType".to_owned(), |k| format!("a {k}"))
                ),
            )]);
        }
        let json: ImmunizationJson = serde_json::from_value(resource).map_err(|e| {
            vec![Issue::new(
                Problem::Structure,
                path,
                format!("not an R4 Immunization: {e}"),
            )]
        })?;
        ImmunizationIn::from_json(json, path, cx)
    }

    /// The checks of [`ImmunizationIn::check`] on a resource already read.
    pub fn from_json(
        j: ImmunizationJson,
        path: &str,
        cx: CheckContext<'_>,
    ) -> Result<ImmunizationIn, Vec<Issue>> {
        let mut issues = Vec::new();
        let at = |element: &str| format!("{path}.{element}");
        if !j.modifier_extension.is_empty() {
            issues.push(Issue::modifier_extension(path));
        }
        if j.implicit_rules.is_some() {
            issues.push(Issue::new(
                Problem::Modifier,
                at("implicitRules"),
                "implicit rules are not understood here and may not be ignored",
            ));
        }
        if j.is_subpotent == Some(true) {
            issues.push(Issue::new(
                Problem::Unsupported,
                at("isSubpotent"),
                "a subpotent dose is not recorded as a dose",
            ));
        }
        match text(j.status.as_ref()) {
            Some("completed") => {}
            Some(other) => issues.push(Issue::new(
                Problem::Unsupported,
                at("status"),
                format!("only completed doses are recorded, got status {other:?}"),
            )),
            None => issues.push(Issue::new(
                Problem::Required,
                at("status"),
                "status is required",
            )),
        }
        let product = vaccine_code(j.vaccine_code.as_ref(), &at("vaccineCode"), &mut issues);
        let citizen_id = patient(
            j.patient.as_ref(),
            &at("patient"),
            cx.citizen_system,
            &mut issues,
        );
        let date = occurrence(&j, &at("occurrenceDateTime"), cx, &mut issues);
        let (dose_number, series_doses) =
            protocol(&j.protocol_applied, &at("protocolApplied"), &mut issues);
        for (i, p) in j.performer.iter().enumerate() {
            if !p.modifier_extension.is_empty() {
                issues.push(Issue::modifier_extension(&at(&format!("performer[{i}]"))));
            }
            if p.actor.is_none() {
                issues.push(Issue::new(
                    Problem::Required,
                    at(&format!("performer[{i}].actor")),
                    "a performer needs an actor",
                ));
            }
        }
        let site = j
            .location
            .as_ref()
            .and_then(|l| text(l.display.as_ref()))
            .or_else(|| {
                j.performer
                    .iter()
                    .find_map(|p| text(p.actor.as_ref()?.display.as_ref()))
            })
            .map(str::to_owned);
        let lot = text(j.lot_number.as_ref()).map(str::to_owned);
        if lot.as_ref().is_some_and(|l| l.chars().count() > 100) {
            issues.push(Issue::new(
                Problem::Value,
                at("lotNumber"),
                "a lot number has at most 100 characters",
            ));
        }
        if site.as_ref().is_some_and(|s| s.chars().count() > 200) {
            issues.push(Issue::new(
                Problem::Value,
                at("location.display"),
                "a site's name has at most 200 characters",
            ));
        }
        match (product, citizen_id, date, dose_number, series_doses) {
            (
                Some(product),
                Some(citizen_id),
                Some(date),
                Some(dose_number),
                Some(series_doses),
            ) if issues.is_empty() => Ok(ImmunizationIn {
                citizen_id,
                product,
                dose_number,
                series_doses,
                date,
                lot,
                site,
                country: "VN".into(),
            }),
            _ => Err(issues),
        }
    }
}

/// The `mp` code of the first coding under one of the value set's systems.
fn vaccine_code(
    c: Option<&CodeableConceptIn>,
    at: &str,
    issues: &mut Vec<Issue>,
) -> Option<String> {
    let Some(c) = c else {
        issues.push(Issue::new(Problem::Required, at, "vaccineCode is required"));
        return None;
    };
    let found = c.coding.iter().find(|coding| {
        matches!(
            text(coding.system.as_ref()),
            Some(MP_SYSTEM_EU | MP_SYSTEM_OTHER)
        )
    });
    match found {
        Some(coding) => match text(coding.code.as_ref()) {
            Some(code) if code.len() <= 64 => Some(code.to_owned()),
            Some(_) => {
                issues.push(Issue::new(
                    Problem::Value,
                    format!("{at}.coding.code"),
                    "a product code has at most 64 characters",
                ));
                None
            }
            None => {
                issues.push(Issue::new(
                    Problem::Required,
                    format!("{at}.coding.code"),
                    "the product's coding has no code",
                ));
                None
            }
        },
        None => {
            issues.push(Issue::new(
                Problem::CodeInvalid,
                at,
                format!("vaccineCode needs a coding from the EU value set vaccines-covid-19-names ({MP_SYSTEM_EU} or {MP_SYSTEM_OTHER})"),
            ));
            None
        }
    }
}

/// The citizen a patient reference names: a conditional reference `Patient?identifier=SYSTEM|ID`, or a
/// logical reference by identifier `{"identifier": {"system", "value"}}`.
pub(crate) fn patient(
    r: Option<&ReferenceIn>,
    at: &str,
    system: &str,
    issues: &mut Vec<Issue>,
) -> Option<CitizenId> {
    let Some(r) = r else {
        issues.push(Issue::new(Problem::Required, at, "patient is required"));
        return None;
    };
    if let Some(t) = text(r.r#type.as_ref())
        && t != "Patient"
        && t != "http://hl7.org/fhir/StructureDefinition/Patient"
    {
        issues.push(Issue::new(
            Problem::Value,
            format!("{at}.type"),
            format!("patient must refer to a Patient, not a {t}"),
        ));
        return None;
    }
    let token = match (text(r.reference.as_ref()), &r.identifier) {
        (Some(reference), _) => {
            let Some(query) = reference.strip_prefix("Patient?identifier=") else {
                issues.push(Issue::new(
                    Problem::Value,
                    format!("{at}.reference"),
                    format!("patient must be a conditional reference Patient?identifier=SYSTEM|ID or an identifier, got {reference:?}"),
                ));
                return None;
            };
            if query.contains('&') {
                issues.push(Issue::new(
                    Problem::Value,
                    format!("{at}.reference"),
                    "a conditional reference names the identifier alone",
                ));
                return None;
            }
            Token::parse(&percent_decode(query))
        }
        (None, Some(id)) => {
            let Some(value) = text(id.value.as_ref()) else {
                issues.push(Issue::new(
                    Problem::Required,
                    format!("{at}.identifier.value"),
                    "the identifier needs a value",
                ));
                return None;
            };
            Token {
                system: text(id.system.as_ref())
                    .map_or(TokenSystem::NoSystem, |s| TokenSystem::Is(s.to_owned())),
                value: value.to_owned(),
            }
        }
        (None, None) => {
            issues.push(Issue::new(
                Problem::Required,
                at,
                "patient needs a reference or an identifier",
            ));
            return None;
        }
    };
    match token.citizen(system) {
        Some(id) => Some(id),
        None => {
            issues.push(Issue::new(
                Problem::UnknownReference,
                at,
                format!("no Patient here has that identifier: patients are named by their citizen id under {system}"),
            ));
            None
        }
    }
}

/// Decodes `%7C` and friends in a reference's query (`|` is often escaped).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The day of `occurrenceDateTime`: a full date, or a date and time with its offset (read in the rules' zone).
fn occurrence(
    j: &ImmunizationJson,
    at: &str,
    cx: CheckContext<'_>,
    issues: &mut Vec<Issue>,
) -> Option<NaiveDate> {
    let Some(raw) = text(j.occurrence_date_time.as_ref()) else {
        let why = if j.occurrence_string.is_some() {
            "occurrenceString is not a date; send occurrenceDateTime"
        } else {
            "occurrenceDateTime is required"
        };
        issues.push(Issue::new(Problem::Required, at, why));
        return None;
    };
    let day = if raw.len() == 10 {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
    } else if raw.len() > 10 {
        chrono::DateTime::parse_from_rfc3339(raw).ok().map(|t| {
            let offset = chrono::FixedOffset::east_opt(cx.utc_offset_hours * 3600)
                .unwrap_or_else(|| t.offset().to_owned());
            t.with_timezone(&offset).date_naive()
        })
    } else {
        None
    };
    let Some(day) = day else {
        issues.push(Issue::new(
            Problem::Value,
            at,
            format!("{raw:?} is not a day: write YYYY-MM-DD or a date and time with its offset"),
        ));
        return None;
    };
    if day > cx.today {
        issues.push(Issue::new(
            Problem::BusinessRule,
            at,
            format!("{day} is in the future"),
        ));
        return None;
    }
    if day < NaiveDate::from_ymd_opt(2020, 12, 1).unwrap_or(NaiveDate::MIN) {
        issues.push(Issue::new(
            Problem::BusinessRule,
            at,
            format!("{day} is before the first COVID-19 vaccinations"),
        ));
        return None;
    }
    Some(day)
}

/// The dose number and the series' doses from the one `protocolApplied`.
fn protocol(
    p: &[ProtocolAppliedIn],
    at: &str,
    issues: &mut Vec<Issue>,
) -> (Option<u32>, Option<u32>) {
    let p = match p {
        [one] => one,
        [] => {
            issues.push(Issue::new(
                Problem::Required,
                at,
                "protocolApplied with doseNumberPositiveInt and seriesDosesPositiveInt is required",
            ));
            return (None, None);
        }
        _ => {
            issues.push(Issue::new(
                Problem::Unsupported,
                at,
                "one protocolApplied per dose",
            ));
            return (None, None);
        }
    };
    let at = format!("{at}[0]");
    if !p.modifier_extension.is_empty() {
        issues.push(Issue::modifier_extension(&at));
    }
    let positive = |v: &Option<Value>,
                    text_form: &Option<String>,
                    name: &str,
                    issues: &mut Vec<Issue>|
     -> Option<u32> {
        let element = format!("{at}.{name}PositiveInt");
        match v {
            Some(v) => match v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .filter(|n| (1..=MAX_SERIES_DOSES).contains(n))
            {
                Some(n) => Some(n),
                None => {
                    issues.push(Issue::new(Problem::Value, element, format!("{name}PositiveInt must be a whole number from 1 to {MAX_SERIES_DOSES}, got {v}")));
                    None
                }
            },
            None if text_form.is_some() => {
                issues.push(Issue::new(
                    Problem::Unsupported,
                    format!("{at}.{name}String"),
                    format!("{name}String is not read; send {name}PositiveInt"),
                ));
                None
            }
            None => {
                issues.push(Issue::new(
                    Problem::Required,
                    element,
                    format!("{name}PositiveInt is required"),
                ));
                None
            }
        }
    };
    let dose = positive(
        &p.dose_number_positive_int,
        &p.dose_number_string,
        "doseNumber",
        issues,
    );
    let series = positive(
        &p.series_doses_positive_int,
        &p.series_doses_string,
        "seriesDoses",
        issues,
    );
    if let (Some(d), Some(s)) = (dose, series)
        && d > s
    {
        issues.push(Issue::new(
            Problem::BusinessRule,
            format!("{at}.doseNumberPositiveInt"),
            format!("dose {d} is past a series of {s}"),
        ));
        return (None, None);
    }
    (dose, series)
}

/// An R4 Immunization as the facade writes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Immunization {
    pub resource_type: &'static str,
    pub id: String,
    pub status: &'static str,
    pub vaccine_code: CodeableConcept,
    pub patient: Reference,
    pub occurrence_date_time: String,
    pub primary_source: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot_number: Option<String>,
    pub protocol_applied: Vec<ProtocolApplied>,
}

/// `Immunization.protocolApplied` as written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProtocolApplied {
    pub target_disease: Vec<CodeableConcept>,
    pub dose_number_positive_int: u32,
    pub series_doses_positive_int: u32,
}

/// SNOMED CT, the system of the EU value set `disease-agent-targeted` (`tg`).
pub const SNOMED: &str = "http://snomed.info/sct";
/// COVID-19 in SNOMED CT, the `tg` of every DCC.
pub const COVID_19: &str = "840539006";

impl ImmunizationOut {
    /// The dose as an R4 Immunization whose patient is named by its citizen id under `citizen_system`.
    pub fn resource(&self, citizen_system: &str) -> Immunization {
        Immunization {
            resource_type: "Immunization",
            id: self.id.clone(),
            status: "completed",
            vaccine_code: CodeableConcept {
                coding: vec![Coding {
                    system: mp_system(&self.product).to_owned(),
                    code: self.product.clone(),
                    display: self.product_name.clone(),
                }],
                text: self.product_name.clone(),
            },
            patient: Reference {
                r#type: Some("Patient"),
                identifier: Some(citizen_identifier(&self.citizen_id, citizen_system)),
                ..Reference::default()
            },
            occurrence_date_time: self.date.format("%Y-%m-%d").to_string(),
            primary_source: false,
            location: self.site.as_ref().map(|s| Reference {
                r#type: Some("Location"),
                display: Some(s.clone()),
                ..Reference::default()
            }),
            lot_number: self.lot.clone(),
            protocol_applied: vec![ProtocolApplied {
                target_disease: vec![CodeableConcept {
                    coding: vec![Coding {
                        system: SNOMED.into(),
                        code: COVID_19.into(),
                        display: Some("COVID-19".into()),
                    }],
                    text: None,
                }],
                dose_number_positive_int: self.dose_number,
                series_doses_positive_int: self.series_doses,
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SYS: &str = super::super::DEFAULT_CITIZEN_SYSTEM;

    fn cx() -> CheckContext<'static> {
        CheckContext {
            citizen_system: SYS,
            today: NaiveDate::from_ymd_opt(2021, 12, 1).unwrap(),
            utc_offset_hours: 7,
        }
    }

    fn dose() -> Value {
        json!({
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": MP_SYSTEM_EU, "code": "EU/1/21/1529"}]},
            "patient": {"reference": format!("Patient?identifier={SYS}|094090123456")},
            "occurrenceDateTime": "2021-08-03",
            "lotNumber": "A1234",
            "location": {"display": "Trạm Y tế Phường 2"},
            "protocolApplied": [{"doseNumberPositiveInt": 1, "seriesDosesPositiveInt": 2}],
            "meta": {"profile": ["http://example.org/x"]},
            "note": [{"text": "ignored, but R4"}]
        })
    }

    fn problems(v: Value) -> Vec<(Problem, String)> {
        ImmunizationIn::check(v, "Immunization", cx())
            .unwrap_err()
            .into_iter()
            .map(|i| (i.problem, i.expression.unwrap_or_default()))
            .collect()
    }

    #[test]
    fn a_complete_dose_is_read() {
        let d = ImmunizationIn::check(dose(), "Immunization", cx()).unwrap();
        assert_eq!(d.citizen_id.as_str(), "094090123456");
        assert_eq!(d.product, "EU/1/21/1529");
        assert_eq!((d.dose_number, d.series_doses), (1, 2));
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2021, 8, 3).unwrap());
        assert_eq!(d.lot.as_deref(), Some("A1234"));
        assert_eq!(d.site.as_deref(), Some("Trạm Y tế Phường 2"));
    }

    #[test]
    fn references_by_identifier_and_escaped_bars_are_read() {
        let mut v = dose();
        v["patient"] = json!({"identifier": {"system": SYS, "value": "094090123456"}});
        assert!(ImmunizationIn::check(v, "I", cx()).is_ok());
        let mut v = dose();
        v["patient"] = json!({"reference": format!("Patient?identifier={}%7C094090123456", SYS)});
        assert!(ImmunizationIn::check(v, "I", cx()).is_ok());
    }

    #[test]
    fn a_time_is_read_in_vietnam() {
        let mut v = dose();
        v["occurrenceDateTime"] = json!("2021-08-03T20:00:00Z");
        let d = ImmunizationIn::check(v, "I", cx()).unwrap();
        assert_eq!(d.date, NaiveDate::from_ymd_opt(2021, 8, 4).unwrap());
    }

    #[test]
    fn every_problem_is_named_at_its_element() {
        let mut v = dose();
        v.as_object_mut().unwrap().remove("vaccineCode");
        v["status"] = json!("not-done");
        v["patient"] = json!({"reference": "Patient/12"});
        v["occurrenceDateTime"] = json!("2021-08");
        v["protocolApplied"] = json!([{"doseNumberPositiveInt": 3, "seriesDosesPositiveInt": 2}]);
        assert_eq!(
            problems(v),
            vec![
                (Problem::Unsupported, "Immunization.status".into()),
                (Problem::Required, "Immunization.vaccineCode".into()),
                (Problem::Value, "Immunization.patient.reference".into()),
                (Problem::Value, "Immunization.occurrenceDateTime".into()),
                (
                    Problem::BusinessRule,
                    "Immunization.protocolApplied[0].doseNumberPositiveInt".into()
                ),
            ]
        );
    }

    #[test]
    fn codes_references_and_dates_are_checked() {
        let mut v = dose();
        v["vaccineCode"] =
            json!({"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]});
        v["patient"] = json!({"reference": "Patient?identifier=urn:other|094090123456"});
        v["occurrenceDateTime"] = json!("2022-01-01");
        assert_eq!(
            problems(v),
            vec![
                (Problem::CodeInvalid, "Immunization.vaccineCode".into()),
                (Problem::UnknownReference, "Immunization.patient".into()),
                (
                    Problem::BusinessRule,
                    "Immunization.occurrenceDateTime".into()
                ),
            ]
        );
    }

    #[test]
    fn unknown_elements_and_modifiers_are_refused() {
        let mut v = dose();
        v["colour"] = json!("red");
        assert_eq!(problems(v)[0].0, Problem::Structure);
        let mut v = dose();
        v["modifierExtension"] = json!([{"url": "http://example.org/m", "valueBoolean": true}]);
        assert_eq!(
            problems(v),
            vec![(Problem::Modifier, "Immunization.modifierExtension".into())]
        );
        let v = json!({"resourceType": "Patient"});
        assert_eq!(problems(v)[0].0, Problem::Structure);
    }

    #[test]
    fn a_stored_dose_is_written_back() {
        let out = ImmunizationOut {
            id: "7".into(),
            citizen_id: CitizenId::parse("094090123456").unwrap(),
            product: "BBIBP-CorV".into(),
            product_name: Some("Covilo".into()),
            dose_number: 2,
            series_doses: 2,
            date: NaiveDate::from_ymd_opt(2021, 9, 1).unwrap(),
            lot: Some("L1".into()),
            site: Some("Trạm Y tế".into()),
            country: "VN".into(),
        };
        let v = serde_json::to_value(out.resource(SYS)).unwrap();
        assert_eq!(v["vaccineCode"]["coding"][0]["system"], MP_SYSTEM_OTHER);
        // What goes out comes back in as the same dose.
        let back = ImmunizationIn::check(v, "I", cx()).unwrap();
        assert_eq!(
            (back.product.as_str(), back.dose_number, back.date),
            ("BBIBP-CorV", 2, out.date)
        );
        assert_eq!(back.citizen_id, out.citizen_id);
    }
}
