//! Laboratory results: Specimen (the sample, named by its printed label), Observation (the SARS-CoV-2 result,
//! LOINC 94500-6 PCR or 94558-4 rapid antigen, SNOMED CT 260373001 detected / 260415000 not detected, the Ct
//! value as a component LOINC 94745-7) and DiagnosticReport (the report that carries them).
//!
//! Coming in, each resource of a transaction is read by its `…Json` type and checked into a plain struct
//! ([`SpecimenIn`], [`ObservationIn`], [`ReportIn`]), every problem an [`Issue`] at its element; [`link`] then
//! ties each Observation to its Specimen (and the reports to their Observations) by the entries' `fullUrl`s,
//! into one [`LabResultIn`] per result. Going out, [`LabResultOut`] writes a stored sample and its result back
//! as the three resources.

use super::datatypes::{
    CodeableConcept, CodeableConceptIn, Coding, Identifier, IdentifierIn, Ignored, Reference,
    ReferenceIn, text,
};
use super::immunization::SNOMED;
use super::outcome::{Issue, Problem};
use super::patient::citizen_identifier;
use kiemdich_domain::testing::{LabelKind, TargetRef, label};
use kiemdich_domain::{CitizenId, TestResult, TestType};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;

/// LOINC.
pub const LOINC: &str = "http://loinc.org";
/// SARS-CoV-2 RNA [Presence] in Respiratory specimen by NAA with probe detection: a PCR.
pub const LOINC_PCR: &str = "94500-6";
/// SARS-CoV-2 Ag [Presence] in Respiratory specimen by Rapid immunoassay: a rapid antigen test.
pub const LOINC_ANTIGEN: &str = "94558-4";
/// SARS-CoV-2 RNA [Cycle Threshold #] in Respiratory specimen by NAA with probe detection: the Ct value.
pub const LOINC_CT: &str = "94745-7";
/// SNOMED CT "Detected".
pub const DETECTED: &str = "260373001";
/// SNOMED CT "Not detected".
pub const NOT_DETECTED: &str = "260415000";
/// The R4 code system of the reasons a value is missing: `error` is an invalid test.
pub const DATA_ABSENT: &str = "http://terminology.hl7.org/CodeSystem/data-absent-reason";
/// The identifier system of the printed sample labels (`M-…`) this server writes; a Specimen coming in may
/// name its sample under it, or by any identifier whose value is a sample's label.
pub const SAMPLE_LABEL_SYSTEM: &str = "urn:kiemdich:sample-label";
const UCUM: &str = "http://unitsofmeasure.org";

/// The LOINC code of a test type, and the name LOINC gives it.
pub fn loinc(t: TestType) -> (&'static str, &'static str) {
    match t {
        TestType::Pcr => (
            LOINC_PCR,
            "SARS-CoV-2 (COVID-19) RNA [Presence] in Respiratory specimen by NAA with probe detection",
        ),
        TestType::RapidAntigen => (
            LOINC_ANTIGEN,
            "SARS-CoV-2 (COVID-19) Ag [Presence] in Respiratory specimen by Rapid immunoassay",
        ),
    }
}

// ---------------------------------------------------------------------------------------------------------
// Coming in: the resources as R4 writes them.

/// An R4 Specimen as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SpecimenJson {
    pub resource_type: String,
    pub id: Ignored,
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
    pub accession_identifier: Ignored,
    pub status: Option<String>,
    #[serde(rename = "_status")]
    pub status_ext: Ignored,
    pub r#type: Ignored,
    pub subject: Option<ReferenceIn>,
    pub received_time: Ignored,
    #[serde(rename = "_receivedTime")]
    pub received_time_ext: Ignored,
    pub parent: Ignored,
    pub request: Ignored,
    pub collection: Ignored,
    pub processing: Ignored,
    pub container: Ignored,
    pub condition: Ignored,
    pub note: Ignored,
}

/// An R4 Quantity as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuantityIn {
    pub id: Ignored,
    pub extension: Ignored,
    pub value: Option<f64>,
    #[serde(rename = "_value")]
    pub value_ext: Ignored,
    pub comparator: Option<String>,
    #[serde(rename = "_comparator")]
    pub comparator_ext: Ignored,
    pub unit: Ignored,
    #[serde(rename = "_unit")]
    pub unit_ext: Ignored,
    pub system: Ignored,
    #[serde(rename = "_system")]
    pub system_ext: Ignored,
    pub code: Ignored,
    #[serde(rename = "_code")]
    pub code_ext: Ignored,
}

/// `value[x]` and `dataAbsentReason`, which an Observation shares with its components: read apart from the
/// rest of the element (see [`with_value`]), as serde cannot refuse unknown elements across a flattened part.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValueJson {
    pub value_quantity: Option<QuantityIn>,
    pub value_codeable_concept: Option<CodeableConceptIn>,
    pub value_string: Option<Value>,
    #[serde(rename = "_valueString")]
    pub value_string_ext: Ignored,
    pub value_boolean: Option<Value>,
    #[serde(rename = "_valueBoolean")]
    pub value_boolean_ext: Ignored,
    pub value_integer: Option<Value>,
    #[serde(rename = "_valueInteger")]
    pub value_integer_ext: Ignored,
    pub value_range: Option<Value>,
    pub value_ratio: Option<Value>,
    pub value_sampled_data: Option<Value>,
    pub value_time: Option<Value>,
    #[serde(rename = "_valueTime")]
    pub value_time_ext: Ignored,
    pub value_date_time: Option<Value>,
    #[serde(rename = "_valueDateTime")]
    pub value_date_time_ext: Ignored,
    pub value_period: Option<Value>,
    pub data_absent_reason: Option<CodeableConceptIn>,
}

/// Whether a JSON key belongs to [`ValueJson`].
fn is_value_key(k: &str) -> bool {
    let k = k.strip_prefix('_').unwrap_or(k);
    k == "dataAbsentReason"
        || k.strip_prefix("value")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Reads an element with a value (an Observation or a component) as `T` and its [`ValueJson`].
fn with_value<T: serde::de::DeserializeOwned>(
    mut element: Value,
) -> Result<(T, ValueJson), serde_json::Error> {
    let mut value = serde_json::Map::new();
    if let Some(map) = element.as_object_mut() {
        let keys: Vec<String> = map.keys().filter(|k| is_value_key(k)).cloned().collect();
        for k in keys {
            if let Some(v) = map.remove(&k) {
                value.insert(k, v);
            }
        }
    }
    Ok((
        serde_json::from_value(element)?,
        serde_json::from_value(Value::Object(value))?,
    ))
}

impl ValueJson {
    /// Whether a value of a type this server does not read was given.
    fn other_value(&self) -> bool {
        self.value_string.is_some()
            || self.value_boolean.is_some()
            || self.value_integer.is_some()
            || self.value_range.is_some()
            || self.value_ratio.is_some()
            || self.value_sampled_data.is_some()
            || self.value_time.is_some()
            || self.value_date_time.is_some()
            || self.value_period.is_some()
    }
}

/// An R4 Observation as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ObservationJson {
    pub resource_type: String,
    pub id: Ignored,
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
    pub identifier: Ignored,
    pub based_on: Ignored,
    pub part_of: Ignored,
    pub status: Option<String>,
    #[serde(rename = "_status")]
    pub status_ext: Ignored,
    pub category: Ignored,
    pub code: Option<CodeableConceptIn>,
    pub subject: Option<ReferenceIn>,
    pub focus: Ignored,
    pub encounter: Ignored,
    pub effective_date_time: Option<String>,
    #[serde(rename = "_effectiveDateTime")]
    pub effective_date_time_ext: Ignored,
    pub effective_period: Ignored,
    pub effective_timing: Ignored,
    pub effective_instant: Option<String>,
    #[serde(rename = "_effectiveInstant")]
    pub effective_instant_ext: Ignored,
    pub issued: Option<String>,
    #[serde(rename = "_issued")]
    pub issued_ext: Ignored,
    #[serde(default)]
    pub performer: Vec<ReferenceIn>,
    pub interpretation: Ignored,
    pub note: Ignored,
    pub body_site: Ignored,
    pub method: Ignored,
    pub specimen: Option<ReferenceIn>,
    pub device: Ignored,
    pub reference_range: Ignored,
    pub has_member: Ignored,
    pub derived_from: Ignored,
    #[serde(default)]
    pub component: Vec<Value>,
}

/// `Observation.component` as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ComponentJson {
    pub id: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub modifier_extension: Vec<Value>,
    pub code: Option<CodeableConceptIn>,
    pub interpretation: Ignored,
    pub reference_range: Ignored,
}

/// An R4 DiagnosticReport as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReportJson {
    pub resource_type: String,
    pub id: Ignored,
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
    pub identifier: Ignored,
    pub based_on: Ignored,
    pub status: Option<String>,
    #[serde(rename = "_status")]
    pub status_ext: Ignored,
    pub category: Ignored,
    pub code: Option<CodeableConceptIn>,
    pub subject: Option<ReferenceIn>,
    pub encounter: Ignored,
    pub effective_date_time: Ignored,
    #[serde(rename = "_effectiveDateTime")]
    pub effective_date_time_ext: Ignored,
    pub effective_period: Ignored,
    pub issued: Ignored,
    #[serde(rename = "_issued")]
    pub issued_ext: Ignored,
    pub performer: Ignored,
    pub results_interpreter: Ignored,
    #[serde(default)]
    pub specimen: Vec<ReferenceIn>,
    #[serde(default)]
    pub result: Vec<ReferenceIn>,
    pub imaging_study: Ignored,
    pub media: Ignored,
    pub conclusion: Ignored,
    #[serde(rename = "_conclusion")]
    pub conclusion_ext: Ignored,
    pub conclusion_code: Ignored,
    pub presented_form: Ignored,
}

// ---------------------------------------------------------------------------------------------------------
// Coming in: the checked resources.

/// A Specimen the facade accepted: the sample its label names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecimenIn {
    /// The sample's id, read from its label (or its bare id).
    pub sample_id: i64,
    /// The person, when the Specimen names one: it must be the Observation's.
    pub citizen_id: Option<CitizenId>,
}

/// An Observation the facade accepted: one SARS-CoV-2 result.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservationIn {
    pub test_type: TestType,
    pub citizen_id: CitizenId,
    /// The `reference` of `Observation.specimen`: a Specimen entry's `fullUrl`.
    pub specimen: String,
    pub result: TestResult,
    /// When it was tested as sent (`issued`, else the effective time), checked by the result entry's rules.
    pub tested_at: String,
    /// The element `tested_at` came from, for the issues of the result entry's checks.
    pub tested_at_element: &'static str,
    /// `performer.display`: the laboratory.
    pub lab: String,
    /// The Ct value and the element it came from.
    pub ct: Option<(f64, String)>,
}

/// A DiagnosticReport the facade accepted: the Observations it reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportIn {
    pub test_type: TestType,
    pub citizen_id: CitizenId,
    /// The `reference`s of `result`: Observation entries' `fullUrl`s.
    pub results: Vec<String>,
    pub specimens: Vec<String>,
}

/// One result of a transaction, its three resources tied together.
#[derive(Debug, Clone, PartialEq)]
pub struct LabResultIn {
    pub sample_id: i64,
    pub citizen_id: CitizenId,
    pub test_type: TestType,
    pub result: TestResult,
    pub tested_at: String,
    pub lab: String,
    pub ct: Option<f64>,
    /// The entries of the Specimen and the Observation.
    pub specimen_entry: usize,
    pub observation_entry: usize,
    /// Where the result entry's checks point: the time, the Ct value.
    pub tested_at_element: &'static str,
    pub ct_element: Option<String>,
}

impl LabResultIn {
    /// The path of an element of this result's Observation.
    pub fn observation_at(&self, element: &str) -> String {
        format!(
            "Bundle.entry[{}].resource.{element}",
            self.observation_entry
        )
    }

    /// The path of this result's Specimen's identifier.
    pub fn specimen_at(&self) -> String {
        format!("Bundle.entry[{}].resource.identifier", self.specimen_entry)
    }
}

/// Refuses a resource whose `resourceType` is not `kind`.
fn expect_kind(resource: &Value, kind: &str, path: &str) -> Result<(), Vec<Issue>> {
    let got = resource.get("resourceType").and_then(Value::as_str);
    if got == Some(kind) {
        return Ok(());
    }
    Err(vec![Issue::new(
        Problem::Structure,
        path,
        format!(
            "expected a {kind}, got {}",
            got.map_or_else(|| "no resourceType".to_owned(), |k| format!("a {k}"))
        ),
    )])
}

/// A resource or element that is not what R4 defines.
fn structure(e: serde_json::Error, what: &str, path: &str) -> Vec<Issue> {
    vec![Issue::new(
        Problem::Structure,
        path,
        format!("not an R4 {what}: {e}"),
    )]
}

/// Reads the resource's JSON as `T` after checking its `resourceType`.
fn read<T: serde::de::DeserializeOwned>(
    resource: Value,
    kind: &str,
    path: &str,
) -> Result<T, Vec<Issue>> {
    expect_kind(&resource, kind, path)?;
    serde_json::from_value(resource).map_err(|e| structure(e, kind, path))
}

/// The modifiers a reader must refuse: modifier extensions and implicit rules.
fn modifiers(modifier_extension: &[Value], implicit_rules: bool, path: &str) -> Vec<Issue> {
    let mut issues = Vec::new();
    if !modifier_extension.is_empty() {
        issues.push(Issue::modifier_extension(path));
    }
    if implicit_rules {
        issues.push(Issue::new(
            Problem::Modifier,
            format!("{path}.implicitRules"),
            "implicit rules are not understood here and may not be ignored",
        ));
    }
    issues
}

/// The status of a final result: `final`, `amended` or `corrected`.
fn final_status(status: Option<&String>, at: &str, issues: &mut Vec<Issue>) {
    match text(status) {
        Some("final" | "amended" | "corrected") => {}
        Some(other) => issues.push(Issue::new(
            Problem::Unsupported,
            at,
            format!("only final results are recorded, got status {other:?}"),
        )),
        None => issues.push(Issue::new(Problem::Required, at, "status is required")),
    }
}

/// The test type a LOINC code of `code` names.
fn test_code(
    code: Option<&CodeableConceptIn>,
    at: &str,
    issues: &mut Vec<Issue>,
) -> Option<TestType> {
    let Some(code) = code else {
        issues.push(Issue::new(Problem::Required, at, "code is required"));
        return None;
    };
    let found = code.coding.iter().find_map(|c| {
        if text(c.system.as_ref()) != Some(LOINC) {
            return None;
        }
        match text(c.code.as_ref()) {
            Some(LOINC_PCR) => Some(TestType::Pcr),
            Some(LOINC_ANTIGEN) => Some(TestType::RapidAntigen),
            _ => None,
        }
    });
    if found.is_none() {
        issues.push(Issue::new(
            Problem::CodeInvalid,
            at,
            format!(
                "code needs a LOINC coding {LOINC_PCR} (PCR) or {LOINC_ANTIGEN} (rapid antigen)"
            ),
        ));
    }
    found
}

/// The `reference` of a reference to another entry of the bundle.
fn entry_reference(r: &ReferenceIn, at: &str, issues: &mut Vec<Issue>) -> Option<String> {
    let found = text(r.reference.as_ref()).map(str::to_owned);
    if found.is_none() {
        issues.push(Issue::new(
            Problem::Required,
            format!("{at}.reference"),
            "refer to the entry's fullUrl (urn:uuid:…)",
        ));
    }
    found
}

impl SpecimenIn {
    /// Reads `resource` at `path`: the sample it names, or every problem.
    pub fn check(resource: Value, path: &str, system: &str) -> Result<SpecimenIn, Vec<Issue>> {
        let j: SpecimenJson = read(resource, "Specimen", path)?;
        let mut issues = modifiers(&j.modifier_extension, j.implicit_rules.is_some(), path);
        if let Some(s) = text(j.status.as_ref())
            && s == "entered-in-error"
        {
            issues.push(Issue::new(
                Problem::Unsupported,
                format!("{path}.status"),
                "a specimen entered in error carries no result",
            ));
        }
        let sample_id = sample_of(&j.identifier, &format!("{path}.identifier"), &mut issues);
        let citizen_id = j.subject.as_ref().and_then(|s| {
            super::immunization::patient(Some(s), &format!("{path}.subject"), system, &mut issues)
        });
        match sample_id {
            Some(sample_id) if issues.is_empty() => Ok(SpecimenIn {
                sample_id,
                citizen_id,
            }),
            _ => Err(issues),
        }
    }
}

/// The sample an identifier names: one under [`SAMPLE_LABEL_SYSTEM`], else the first whose value is a
/// sample's label.
fn sample_of(ids: &[IdentifierIn], at: &str, issues: &mut Vec<Issue>) -> Option<i64> {
    let ours = ids
        .iter()
        .position(|i| text(i.system.as_ref()) == Some(SAMPLE_LABEL_SYSTEM));
    let candidates: Vec<usize> = match ours {
        Some(i) => vec![i],
        None => (0..ids.len()).collect(),
    };
    for i in &candidates {
        let value = ids.get(*i).and_then(|id| text(id.value.as_ref()));
        match value.map(TargetRef::parse) {
            Some(Ok(TargetRef::Label(LabelKind::Sample, id) | TargetRef::Id(id))) => {
                return Some(id);
            }
            Some(Ok(TargetRef::Label(LabelKind::Pool, _))) => {
                issues.push(Issue::new(
                    Problem::Unsupported,
                    format!("{at}[{i}].value"),
                    "a pool has no one patient: enter a pool's result with POST /api/v1/results or the CSV import",
                ));
                return None;
            }
            _ if ours.is_some() => {
                issues.push(Issue::new(
                    Problem::Value,
                    format!("{at}[{i}].value"),
                    format!("not a sample label: {}", value.unwrap_or_default()),
                ));
                return None;
            }
            _ => {}
        }
    }
    issues.push(Issue::new(
        Problem::Required,
        at,
        format!("the Specimen needs an identifier under {SAMPLE_LABEL_SYSTEM} whose value is the sample's printed label (M-…)"),
    ));
    None
}

impl ObservationIn {
    /// Reads `resource` at `path`: the result it states, or every problem.
    pub fn check(resource: Value, path: &str, system: &str) -> Result<ObservationIn, Vec<Issue>> {
        expect_kind(&resource, "Observation", path)?;
        let (j, value_json): (ObservationJson, ValueJson) =
            with_value(resource).map_err(|e| structure(e, "Observation", path))?;
        let at = |element: &str| format!("{path}.{element}");
        let mut issues = modifiers(&j.modifier_extension, j.implicit_rules.is_some(), path);
        final_status(j.status.as_ref(), &at("status"), &mut issues);
        let test_type = test_code(j.code.as_ref(), &at("code"), &mut issues);
        let citizen_id =
            super::immunization::patient(j.subject.as_ref(), &at("subject"), system, &mut issues);
        let specimen = match &j.specimen {
            Some(s) => entry_reference(s, &at("specimen"), &mut issues),
            None => {
                issues.push(Issue::new(
                    Problem::Required,
                    at("specimen"),
                    "a result names its Specimen (the sample's label)",
                ));
                None
            }
        };
        let result = value(&value_json, path, &mut issues);
        let tested_at = match (
            text(j.issued.as_ref()),
            text(j.effective_date_time.as_ref()),
            text(j.effective_instant.as_ref()),
        ) {
            (Some(t), _, _) => Some((t.to_owned(), "issued")),
            (None, Some(t), _) => Some((t.to_owned(), "effectiveDateTime")),
            (None, None, Some(t)) => Some((t.to_owned(), "effectiveInstant")),
            (None, None, None) => {
                issues.push(Issue::new(
                    Problem::Required,
                    at("issued"),
                    "when it was tested: issued (or effectiveDateTime) with a time and its offset",
                ));
                None
            }
        };
        let lab = j
            .performer
            .iter()
            .find_map(|p| text(p.display.as_ref()))
            .map(str::to_owned);
        if lab.is_none() {
            issues.push(Issue::new(
                Problem::Required,
                at("performer"),
                "the laboratory is named by performer.display",
            ));
        }
        let ct = ct(&j.component, &at("component"), &mut issues);
        match (test_type, citizen_id, specimen, result, tested_at, lab) {
            (
                Some(test_type),
                Some(citizen_id),
                Some(specimen),
                Some(result),
                Some((tested_at, tested_at_element)),
                Some(lab),
            ) if issues.is_empty() => Ok(ObservationIn {
                test_type,
                citizen_id,
                specimen,
                result,
                tested_at,
                tested_at_element,
                lab,
                ct,
            }),
            _ => Err(issues),
        }
    }
}

/// The result a value states: SNOMED CT detected or not detected, or an invalid test (no value, the data
/// absent reason `error`).
fn value(v: &ValueJson, path: &str, issues: &mut Vec<Issue>) -> Option<TestResult> {
    if v.other_value() || v.value_quantity.is_some() {
        issues.push(Issue::new(
            Problem::Unsupported,
            format!("{path}.value[x]"),
            "the result is a valueCodeableConcept (SNOMED CT 260373001 detected, 260415000 not detected)",
        ));
        return None;
    }
    match (&v.value_codeable_concept, &v.data_absent_reason) {
        (Some(c), None) => {
            let found = c.coding.iter().find_map(|c| {
                if text(c.system.as_ref()) != Some(SNOMED) {
                    return None;
                }
                match text(c.code.as_ref()) {
                    Some(DETECTED) => Some(TestResult::Positive),
                    Some(NOT_DETECTED) => Some(TestResult::Negative),
                    _ => None,
                }
            });
            if found.is_none() {
                issues.push(Issue::new(
                    Problem::CodeInvalid,
                    format!("{path}.valueCodeableConcept"),
                    format!("the result needs a SNOMED CT coding {DETECTED} (detected) or {NOT_DETECTED} (not detected)"),
                ));
            }
            found
        }
        (None, Some(reason)) => {
            let error = reason.coding.iter().any(|c| {
                text(c.system.as_ref()) == Some(DATA_ABSENT)
                    && text(c.code.as_ref()) == Some("error")
            });
            if error {
                Some(TestResult::Invalid)
            } else {
                issues.push(Issue::new(
                    Problem::CodeInvalid,
                    format!("{path}.dataAbsentReason"),
                    format!("an invalid test is dataAbsentReason {DATA_ABSENT}#error"),
                ));
                None
            }
        }
        (Some(_), Some(_)) => {
            issues.push(Issue::new(
                Problem::BusinessRule,
                format!("{path}.dataAbsentReason"),
                "a value and a reason for its absence contradict each other (obs-6)",
            ));
            None
        }
        (None, None) => {
            issues.push(Issue::new(
                Problem::Required,
                format!("{path}.valueCodeableConcept"),
                "the result is required: valueCodeableConcept, or dataAbsentReason error for an invalid test",
            ));
            None
        }
    }
}

/// The Ct value of the component coded LOINC 94745-7, with its element.
fn ct(components: &[Value], at: &str, issues: &mut Vec<Issue>) -> Option<(f64, String)> {
    let mut found = None;
    for (i, c) in components.iter().enumerate() {
        let here = format!("{at}[{i}]");
        let (c, value): (ComponentJson, ValueJson) = match with_value(c.clone()) {
            Ok(read) => read,
            Err(e) => {
                issues.extend(structure(e, "Observation.component", &here));
                continue;
            }
        };
        if !c.modifier_extension.is_empty() {
            issues.push(Issue::modifier_extension(&here));
        }
        let is_ct = c.code.as_ref().is_some_and(|code| {
            code.coding.iter().any(|c| {
                text(c.system.as_ref()) == Some(LOINC) && text(c.code.as_ref()) == Some(LOINC_CT)
            })
        });
        if !is_ct {
            issues.push(Issue::new(
                Problem::Unsupported,
                format!("{here}.code"),
                format!("the one component read is the Ct value, LOINC {LOINC_CT}"),
            ));
            continue;
        }
        let element = format!("{here}.valueQuantity.value");
        match value.value_quantity.as_ref() {
            Some(q) if q.comparator.is_some() => issues.push(Issue::new(
                Problem::Unsupported,
                format!("{here}.valueQuantity.comparator"),
                "a Ct value is a number, not a bound",
            )),
            Some(QuantityIn { value: Some(v), .. }) if found.is_none() => {
                found = Some((*v, element));
            }
            Some(QuantityIn { value: Some(_), .. }) => issues.push(Issue::new(
                Problem::Unsupported,
                format!("{here}.code"),
                "one Ct value per result",
            )),
            _ => issues.push(Issue::new(
                Problem::Required,
                element,
                "the Ct value is valueQuantity.value",
            )),
        }
    }
    found
}

impl ReportIn {
    /// Reads `resource` at `path`: the Observations it reports, or every problem.
    pub fn check(resource: Value, path: &str, system: &str) -> Result<ReportIn, Vec<Issue>> {
        let j: ReportJson = read(resource, "DiagnosticReport", path)?;
        let at = |element: &str| format!("{path}.{element}");
        let mut issues = modifiers(&j.modifier_extension, j.implicit_rules.is_some(), path);
        final_status(j.status.as_ref(), &at("status"), &mut issues);
        let test_type = test_code(j.code.as_ref(), &at("code"), &mut issues);
        let citizen_id =
            super::immunization::patient(j.subject.as_ref(), &at("subject"), system, &mut issues);
        if j.result.is_empty() {
            issues.push(Issue::new(
                Problem::Required,
                at("result"),
                "a report refers to its Observations",
            ));
        }
        let results: Vec<String> = j
            .result
            .iter()
            .enumerate()
            .filter_map(|(i, r)| entry_reference(r, &at(&format!("result[{i}]")), &mut issues))
            .collect();
        let specimens: Vec<String> = j
            .specimen
            .iter()
            .enumerate()
            .filter_map(|(i, r)| entry_reference(r, &at(&format!("specimen[{i}]")), &mut issues))
            .collect();
        match (test_type, citizen_id) {
            (Some(test_type), Some(citizen_id)) if issues.is_empty() => Ok(ReportIn {
                test_type,
                citizen_id,
                results,
                specimens,
            }),
            _ => Err(issues),
        }
    }
}

/// A checked laboratory entry of a transaction, with its index and `fullUrl`.
#[derive(Debug, Clone, PartialEq)]
pub struct LabEntry<T> {
    pub index: usize,
    pub full_url: Option<String>,
    pub resource: T,
}

impl<T> LabEntry<T> {
    pub fn new(index: usize, full_url: Option<String>, resource: T) -> LabEntry<T> {
        LabEntry {
            index,
            full_url,
            resource,
        }
    }
}

/// Ties each Observation to the Specimen its `specimen` names and each report to its Observations: one
/// [`LabResultIn`] per Observation, in the order sent, or every problem at its element.
pub fn link(
    specimens: &[LabEntry<SpecimenIn>],
    observations: &[LabEntry<ObservationIn>],
    reports: &[LabEntry<ReportIn>],
) -> Result<Vec<LabResultIn>, Vec<Issue>> {
    let mut issues = Vec::new();
    let by_url = |url: &str| -> Option<usize> {
        specimens
            .iter()
            .position(|s| s.full_url.as_deref() == Some(url))
    };
    let mut used: HashMap<usize, usize> = HashMap::new();
    let mut out = Vec::with_capacity(observations.len());
    for o in observations {
        let at = |element: &str| format!("Bundle.entry[{}].resource.{element}", o.index);
        let r = &o.resource;
        let Some(s) = by_url(&r.specimen) else {
            issues.push(Issue::new(
                Problem::UnknownReference,
                at("specimen.reference"),
                format!(
                    "no Specimen entry of this bundle has the fullUrl {:?}",
                    r.specimen
                ),
            ));
            continue;
        };
        if let Some(first) = used.insert(s, o.index) {
            issues.push(Issue::new(
                Problem::BusinessRule,
                at("specimen"),
                format!(
                    "one result per sample: Bundle.entry[{first}] already reports this Specimen"
                ),
            ));
            continue;
        }
        let specimen = &specimens[s];
        if specimen
            .resource
            .citizen_id
            .is_some_and(|c| c != r.citizen_id)
        {
            issues.push(Issue::new(
                Problem::BusinessRule,
                at("subject"),
                "the Observation's patient is not its Specimen's",
            ));
            continue;
        }
        out.push(LabResultIn {
            sample_id: specimen.resource.sample_id,
            citizen_id: r.citizen_id,
            test_type: r.test_type,
            result: r.result,
            tested_at: r.tested_at.clone(),
            lab: r.lab.clone(),
            ct: r.ct.as_ref().map(|(v, _)| *v),
            specimen_entry: specimen.index,
            observation_entry: o.index,
            tested_at_element: r.tested_at_element,
            ct_element: r.ct.as_ref().map(|(_, e)| e.clone()),
        });
    }
    for (pos, s) in specimens.iter().enumerate() {
        if !used.contains_key(&pos) {
            issues.push(Issue::new(
                Problem::Required,
                format!("Bundle.entry[{}].resource", s.index),
                "a Specimen comes with the Observation of its result",
            ));
        }
    }
    for d in reports {
        check_report(d, observations, specimens, &mut issues);
    }
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

/// A report refers to Observations and Specimens of the bundle, of its patient and test.
fn check_report(
    d: &LabEntry<ReportIn>,
    observations: &[LabEntry<ObservationIn>],
    specimens: &[LabEntry<SpecimenIn>],
    issues: &mut Vec<Issue>,
) {
    let at = |element: &str| format!("Bundle.entry[{}].resource.{element}", d.index);
    for (i, url) in d.resource.results.iter().enumerate() {
        match observations
            .iter()
            .find(|o| o.full_url.as_deref() == Some(url.as_str()))
        {
            None => issues.push(Issue::new(
                Problem::UnknownReference,
                at(&format!("result[{i}].reference")),
                format!("no Observation entry of this bundle has the fullUrl {url:?}"),
            )),
            Some(o) if o.resource.citizen_id != d.resource.citizen_id => issues.push(Issue::new(
                Problem::BusinessRule,
                at("subject"),
                "the report's patient is not its Observations'",
            )),
            Some(o) if o.resource.test_type != d.resource.test_type => issues.push(Issue::new(
                Problem::BusinessRule,
                at("code"),
                "the report's test is not its Observations'",
            )),
            Some(_) => {}
        }
    }
    for (i, url) in d.resource.specimens.iter().enumerate() {
        if !specimens
            .iter()
            .any(|s| s.full_url.as_deref() == Some(url.as_str()))
        {
            issues.push(Issue::new(
                Problem::UnknownReference,
                at(&format!("specimen[{i}].reference")),
                format!("no Specimen entry of this bundle has the fullUrl {url:?}"),
            ));
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Going out.

/// A stored sample with its result, as the facade writes it back. The three resources share one logical id,
/// the sample's id: a sample has at most one result of its own.
#[derive(Debug, Clone, PartialEq)]
pub struct LabResultOut {
    pub sample_id: i64,
    pub citizen_id: CitizenId,
    pub test_type: TestType,
    pub collected_at: Option<i64>,
    pub result: TestResult,
    pub tested_at: i64,
    pub lab: String,
    pub ct: Option<f64>,
}

/// An R4 Quantity as written.
#[derive(Debug, Clone, Serialize)]
pub struct Quantity {
    pub value: f64,
    pub unit: &'static str,
    pub system: &'static str,
    pub code: &'static str,
}

/// An R4 Specimen as the facade writes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Specimen {
    pub resource_type: &'static str,
    pub id: String,
    pub identifier: Vec<Identifier>,
    pub subject: Reference,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<Collection>,
}

/// `Specimen.collection` as written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Collection {
    pub collected_date_time: String,
}

/// An R4 Observation as the facade writes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub resource_type: &'static str,
    pub id: String,
    pub status: &'static str,
    pub category: Vec<CodeableConcept>,
    pub code: CodeableConcept,
    pub subject: Reference,
    pub effective_date_time: String,
    pub issued: String,
    pub performer: Vec<Reference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value_codeable_concept: Option<CodeableConcept>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_absent_reason: Option<CodeableConcept>,
    pub specimen: Reference,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub component: Vec<Component>,
}

/// `Observation.component` as written.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    pub code: CodeableConcept,
    pub value_quantity: Quantity,
}

/// An R4 DiagnosticReport as the facade writes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticReport {
    pub resource_type: &'static str,
    pub id: String,
    pub status: &'static str,
    pub category: Vec<CodeableConcept>,
    pub code: CodeableConcept,
    pub subject: Reference,
    pub effective_date_time: String,
    pub issued: String,
    pub performer: Vec<Reference>,
    pub specimen: Vec<Reference>,
    pub result: Vec<Reference>,
    pub conclusion: &'static str,
    /// None for an invalid test.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conclusion_code: Vec<CodeableConcept>,
}

fn concept(system: &str, code: &str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding {
            system: system.to_owned(),
            code: code.to_owned(),
            display: Some(display.to_owned()),
        }],
        text: None,
    }
}

fn time(t: i64) -> String {
    crate::routes::rfc3339(t)
}

impl LabResultOut {
    fn subject(&self, system: &str) -> Reference {
        Reference {
            r#type: Some("Patient"),
            identifier: Some(citizen_identifier(&self.citizen_id, system)),
            ..Reference::default()
        }
    }

    fn code(&self) -> CodeableConcept {
        let (code, display) = loinc(self.test_type);
        concept(LOINC, code, display)
    }

    fn lab(&self) -> Vec<Reference> {
        vec![Reference {
            r#type: Some("Organization"),
            display: Some(self.lab.clone()),
            ..Reference::default()
        }]
    }

    /// The SNOMED CT concept of a positive or negative result (none for an invalid test).
    fn finding(&self) -> Option<CodeableConcept> {
        match self.result {
            TestResult::Positive => Some(concept(SNOMED, DETECTED, "Detected")),
            TestResult::Negative => Some(concept(SNOMED, NOT_DETECTED, "Not detected")),
            TestResult::Invalid => None,
        }
    }

    /// The sample as a Specimen, named by its printed label.
    pub fn specimen(&self, system: &str) -> Specimen {
        Specimen {
            resource_type: "Specimen",
            id: self.sample_id.to_string(),
            identifier: vec![Identifier {
                r#use: Some("official"),
                system: SAMPLE_LABEL_SYSTEM.to_owned(),
                value: label(LabelKind::Sample, self.sample_id),
            }],
            subject: self.subject(system),
            collection: self.collected_at.map(|t| Collection {
                collected_date_time: time(t),
            }),
        }
    }

    /// The result as an Observation: effective when the sample was taken, issued when it was tested.
    pub fn observation(&self, system: &str) -> Observation {
        let finding = self.finding();
        Observation {
            resource_type: "Observation",
            id: self.sample_id.to_string(),
            status: "final",
            category: vec![concept(
                "http://terminology.hl7.org/CodeSystem/observation-category",
                "laboratory",
                "Laboratory",
            )],
            code: self.code(),
            subject: self.subject(system),
            effective_date_time: time(self.collected_at.unwrap_or(self.tested_at)),
            issued: time(self.tested_at),
            performer: self.lab(),
            data_absent_reason: finding
                .is_none()
                .then(|| concept(DATA_ABSENT, "error", "Error")),
            value_codeable_concept: finding,
            specimen: Reference {
                reference: Some(format!("Specimen/{}", self.sample_id)),
                ..Reference::default()
            },
            component: self
                .ct
                .map(|v| Component {
                    code: concept(
                        LOINC,
                        LOINC_CT,
                        "SARS-CoV-2 (COVID-19) RNA [Cycle Threshold #] in Respiratory specimen by NAA with probe detection",
                    ),
                    value_quantity: Quantity {
                        value: v,
                        unit: "Ct",
                        system: UCUM,
                        code: "{Ct}",
                    },
                })
                .into_iter()
                .collect(),
        }
    }

    /// The report of the result.
    pub fn report(&self, system: &str) -> DiagnosticReport {
        DiagnosticReport {
            resource_type: "DiagnosticReport",
            id: self.sample_id.to_string(),
            status: "final",
            category: vec![concept(
                "http://terminology.hl7.org/CodeSystem/v2-0074",
                "LAB",
                "Laboratory",
            )],
            code: self.code(),
            subject: self.subject(system),
            effective_date_time: time(self.collected_at.unwrap_or(self.tested_at)),
            issued: time(self.tested_at),
            performer: self.lab(),
            specimen: vec![Reference {
                reference: Some(format!("Specimen/{}", self.sample_id)),
                ..Reference::default()
            }],
            result: vec![Reference {
                reference: Some(format!("Observation/{}", self.sample_id)),
                ..Reference::default()
            }],
            conclusion: match self.result {
                TestResult::Positive => "SARS-CoV-2 detected",
                TestResult::Negative => "SARS-CoV-2 not detected",
                TestResult::Invalid => "Invalid test: to be repeated",
            },
            conclusion_code: self.finding().into_iter().collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SYS: &str = super::super::DEFAULT_CITIZEN_SYSTEM;

    fn stored(result: TestResult, ct: Option<f64>) -> LabResultOut {
        LabResultOut {
            sample_id: 42,
            citizen_id: CitizenId::parse("094090123456").unwrap(),
            test_type: TestType::Pcr,
            collected_at: Some(1_630_000_000),
            result,
            tested_at: 1_630_090_000,
            lab: "CDC Sóc Trăng".into(),
            ct,
        }
    }

    #[test]
    fn what_goes_out_comes_back_in_as_the_same_result() {
        for (result, ct) in [
            (TestResult::Positive, Some(21.5)),
            (TestResult::Negative, None),
            (TestResult::Invalid, None),
        ] {
            let out = stored(result, ct);
            let v = serde_json::to_value(out.observation(SYS)).unwrap();
            let back = ObservationIn::check(v, "Observation", SYS).unwrap();
            assert_eq!(
                (back.result, back.test_type, back.ct.map(|c| c.0)),
                (result, TestType::Pcr, ct)
            );
            assert_eq!(back.tested_at, "2021-08-27T18:46:40Z");
            assert_eq!(back.lab, "CDC Sóc Trăng");
            let s = serde_json::to_value(out.specimen(SYS)).unwrap();
            assert_eq!(SpecimenIn::check(s, "S", SYS).unwrap().sample_id, 42);
        }
    }

    #[test]
    fn unknown_elements_in_values_and_components_are_refused() {
        let mut v = serde_json::to_value(stored(TestResult::Positive, Some(30.0)).observation(SYS))
            .unwrap();
        v["valueColour"] = json!("red");
        let issues = ObservationIn::check(v.clone(), "O", SYS).unwrap_err();
        assert_eq!(issues[0].problem, Problem::Structure);
        v.as_object_mut().unwrap().remove("valueColour");
        v["component"][0]["colour"] = json!("red");
        let issues = ObservationIn::check(v, "O", SYS).unwrap_err();
        assert_eq!(
            (issues[0].problem, issues[0].expression.as_deref()),
            (Problem::Structure, Some("O.component[0]"))
        );
    }

    #[test]
    fn observations_are_tied_to_their_specimens() {
        let citizen = CitizenId::parse("094090123456").unwrap();
        let specimen = |i, url: &str| {
            LabEntry::new(
                i,
                Some(url.into()),
                SpecimenIn {
                    sample_id: 7,
                    citizen_id: Some(citizen),
                },
            )
        };
        let observation = |i, url: &str| {
            let v =
                serde_json::to_value(stored(TestResult::Negative, None).observation(SYS)).unwrap();
            let mut o = ObservationIn::check(v, "O", SYS).unwrap();
            o.specimen = url.into();
            LabEntry::new(i, Some(format!("urn:o{i}")), o)
        };
        let linked = link(&[specimen(0, "urn:s")], &[observation(1, "urn:s")], &[]).unwrap();
        assert_eq!(
            (
                linked[0].sample_id,
                linked[0].specimen_entry,
                linked[0].observation_entry
            ),
            (7, 0, 1)
        );
        // A second result of the same Specimen, and a Specimen nothing reports.
        let issues = link(
            &[specimen(0, "urn:s"), specimen(3, "urn:t")],
            &[observation(1, "urn:s"), observation(2, "urn:s")],
            &[],
        )
        .unwrap_err();
        let at: Vec<_> = issues
            .iter()
            .map(|i| i.expression.clone().unwrap())
            .collect();
        assert_eq!(
            at,
            [
                "Bundle.entry[2].resource.specimen",
                "Bundle.entry[3].resource"
            ]
        );
    }
}
