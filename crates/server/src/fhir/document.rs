//! The electronic health book as an R4 document Bundle (bundle.html#document): a Composition first (bdl-11)
//! whose sections point at the Patient, the Immunizations, the Observations of the daily health updates
//! (body temperature, LOINC 8310-5; SpO2 by pulse oximetry, LOINC 59408-5) and the test results, each an
//! Observation and a DiagnosticReport with its Specimen as the FHIR facade's lab module builds them (their
//! references pointed at the document's entries). Every entry has a `urn:uuid:`
//! full URL derived from what it is, so the same book gives the same document; the Bundle carries the
//! identifier (bdl-9) and timestamp (bdl-10) a document needs.

use super::datatypes::{CodeableConcept, Coding, Identifier, Reference};
use super::immunization::{Immunization, ImmunizationOut};
use super::lab::{self, LabResultOut};
use super::patient::{Patient, Place};
use kiemdich_domain::RegistryRecord;
use kiemdich_store::HealthUpdateRecord;
use serde::Serialize;

/// LOINC, the system of the Composition type and the Observation codes.
pub const LOINC: &str = "http://loinc.org";
/// UCUM, the system of the Observations' units.
pub const UCUM: &str = "http://unitsofmeasure.org";
/// The system of the document identifiers this server writes.
pub const DOCUMENT_SYSTEM: &str = "urn:ietf:rfc:3986";

/// An R4 Bundle of type `document`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    pub resource_type: &'static str,
    pub identifier: Identifier,
    pub r#type: &'static str,
    pub timestamp: String,
    pub entry: Vec<DocumentEntry>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentEntry {
    pub full_url: String,
    pub resource: DocumentResource,
}

#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum DocumentResource {
    Composition(Box<Composition>),
    Patient(Box<Patient>),
    Immunization(Box<Immunization>),
    Observation(Box<Observation>),
    LabObservation(Box<lab::Observation>),
    DiagnosticReport(Box<lab::DiagnosticReport>),
    Specimen(Box<lab::Specimen>),
}

/// An R4 Composition: the document's table of contents.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Composition {
    pub resource_type: &'static str,
    pub status: &'static str,
    pub r#type: CodeableConcept,
    pub subject: Reference,
    pub date: String,
    pub author: Vec<Reference>,
    pub title: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub section: Vec<Section>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub title: String,
    pub entry: Vec<Reference>,
}

/// An R4 Observation of a vital sign.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    pub resource_type: &'static str,
    pub status: &'static str,
    pub category: Vec<CodeableConcept>,
    pub code: CodeableConcept,
    pub subject: Reference,
    pub effective_date_time: String,
    pub value_quantity: Quantity,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quantity {
    pub value: f64,
    pub unit: &'static str,
    pub system: &'static str,
    pub code: &'static str,
}

/// A `urn:uuid:` made from `seed` (the first 128 bits of its SHA-256, marked as a name-based UUID).
fn urn(seed: &str) -> String {
    let h = crate::auth::sha256_hex(seed);
    format!(
        "urn:uuid:{}-{}-5{}-a{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

fn to(full_url: &str, kind: &'static str) -> Reference {
    Reference {
        reference: Some(full_url.to_owned()),
        r#type: Some(kind),
        ..Reference::default()
    }
}

fn loinc(code: &str, display: &str) -> CodeableConcept {
    CodeableConcept {
        coding: vec![Coding {
            system: LOINC.into(),
            code: code.into(),
            display: Some(display.into()),
        }],
        text: None,
    }
}

fn rfc3339(t: i64) -> String {
    crate::routes::rfc3339(t)
}

/// What the document is made of.
pub struct Parts<'a> {
    pub person: &'a RegistryRecord,
    pub place: Place,
    pub citizen_system: &'a str,
    pub doses: &'a [ImmunizationOut],
    pub updates: &'a [HealthUpdateRecord],
    /// The person's samples that have a result of their own.
    pub results: &'a [LabResultOut],
    /// Who issues the book (the health department), as the Composition's author.
    pub author: String,
    pub title: String,
    /// Section titles: vaccinations, health updates, test results.
    pub vaccinations_title: String,
    pub updates_title: String,
    pub results_title: String,
    pub now: i64,
}

/// The document Bundle of one person's health book.
pub fn health_book(p: &Parts<'_>) -> Document {
    let citizen = p.person.citizen_id.as_str();
    let patient_url = urn(&format!("patient|{citizen}"));
    let subject = to(&patient_url, "Patient");
    let mut entries = Vec::new();
    entries.push(DocumentEntry {
        full_url: patient_url.clone(),
        resource: DocumentResource::Patient(Box::new(Patient::from_record(
            p.person,
            p.citizen_system,
            &p.place,
        ))),
    });
    let mut dose_refs = Vec::new();
    for d in p.doses {
        let url = urn(&format!("immunization|{}", d.id));
        dose_refs.push(to(&url, "Immunization"));
        entries.push(DocumentEntry {
            full_url: url,
            resource: DocumentResource::Immunization(Box::new(d.resource(p.citizen_system))),
        });
    }
    let vital = CodeableConcept {
        coding: vec![Coding {
            system: "http://terminology.hl7.org/CodeSystem/observation-category".into(),
            code: "vital-signs".into(),
            display: Some("Vital Signs".into()),
        }],
        text: None,
    };
    let mut obs_refs = Vec::new();
    for u in p.updates {
        let readings = [
            u.temperature_c.map(|t| {
                (
                    "temperature",
                    loinc("8310-5", "Body temperature"),
                    (f64::from(t) * 10.0).round() / 10.0,
                    "Cel",
                )
            }),
            u.spo2.map(|s| {
                (
                    "spo2",
                    loinc(
                        "59408-5",
                        "Oxygen saturation in Arterial blood by Pulse oximetry",
                    ),
                    f64::from(s),
                    "%",
                )
            }),
        ];
        for (what, code, value, unit) in readings.into_iter().flatten() {
            let url = urn(&format!("observation|{citizen}|{}|{what}", u.id));
            obs_refs.push(to(&url, "Observation"));
            entries.push(DocumentEntry {
                full_url: url,
                resource: DocumentResource::Observation(Box::new(Observation {
                    resource_type: "Observation",
                    status: "final",
                    category: vec![vital.clone()],
                    code,
                    subject: subject.clone(),
                    effective_date_time: rfc3339(u.at.0),
                    value_quantity: Quantity {
                        value,
                        unit,
                        system: UCUM,
                        code: unit,
                    },
                })),
            });
        }
    }
    let result_refs = lab_results(p, &subject, &mut entries);
    let mut section = Vec::new();
    if !dose_refs.is_empty() {
        section.push(Section {
            title: p.vaccinations_title.clone(),
            entry: dose_refs,
        });
    }
    if !obs_refs.is_empty() {
        section.push(Section {
            title: p.updates_title.clone(),
            entry: obs_refs,
        });
    }
    if !result_refs.is_empty() {
        section.push(Section {
            title: p.results_title.clone(),
            entry: result_refs,
        });
    }
    let composition_url = urn(&format!("composition|{citizen}|{}", p.now));
    let composition = Composition {
        resource_type: "Composition",
        status: "final",
        r#type: loinc("60591-5", "Patient summary Document"),
        subject,
        date: rfc3339(p.now),
        author: vec![Reference {
            display: Some(p.author.clone()),
            ..Reference::default()
        }],
        title: p.title.clone(),
        section,
    };
    entries.insert(
        0,
        DocumentEntry {
            full_url: composition_url,
            resource: DocumentResource::Composition(Box::new(composition)),
        },
    );
    Document {
        resource_type: "Bundle",
        identifier: Identifier {
            r#use: None,
            system: DOCUMENT_SYSTEM.into(),
            value: urn(&format!("document|{citizen}|{}", p.now)),
        },
        r#type: "document",
        timestamp: rfc3339(p.now),
        entry: entries,
    }
}

/// The test results as the lab module builds them, their subject, specimen and result references pointed at
/// this document's entries: the Observations and DiagnosticReports after the vital signs, the Specimens
/// last. Returns what the results section lists (each report, then its observation).
fn lab_results(
    p: &Parts<'_>,
    subject: &Reference,
    entries: &mut Vec<DocumentEntry>,
) -> Vec<Reference> {
    let mut observations = Vec::new();
    let mut reports = Vec::new();
    let mut specimens = Vec::new();
    let mut listed = Vec::new();
    for r in p.results {
        let (specimen_url, observation_url, report_url) = (
            urn(&format!("specimen|{}", r.sample_id)),
            urn(&format!("lab-observation|{}", r.sample_id)),
            urn(&format!("report|{}", r.sample_id)),
        );
        let mut specimen = r.specimen(p.citizen_system);
        specimen.subject = subject.clone();
        let mut observation = r.observation(p.citizen_system);
        observation.subject = subject.clone();
        observation.specimen = to(&specimen_url, "Specimen");
        let mut report = r.report(p.citizen_system);
        report.subject = subject.clone();
        report.specimen = vec![to(&specimen_url, "Specimen")];
        report.result = vec![to(&observation_url, "Observation")];
        listed.push(to(&report_url, "DiagnosticReport"));
        listed.push(to(&observation_url, "Observation"));
        observations.push(DocumentEntry {
            full_url: observation_url,
            resource: DocumentResource::LabObservation(Box::new(observation)),
        });
        reports.push(DocumentEntry {
            full_url: report_url,
            resource: DocumentResource::DiagnosticReport(Box::new(report)),
        });
        specimens.push(DocumentEntry {
            full_url: specimen_url,
            resource: DocumentResource::Specimen(Box::new(specimen)),
        });
    }
    entries.extend(observations);
    entries.extend(reports);
    entries.extend(specimens);
    listed
}
