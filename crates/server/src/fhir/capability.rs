//! The CapabilityStatement `GET /fhir/metadata` answers: what this server does, from one table of resources.

use serde::Serialize;

/// A resource the facade serves, its interactions and its search parameters: the statement is made from this
/// table, so that a new resource (Observation, DiagnosticReport, Specimen) is declared where it is added.
pub struct ResourceSupport {
    pub kind: &'static str,
    pub interactions: &'static [&'static str],
    /// `(name, type, documentation)`.
    pub search: &'static [(&'static str, &'static str, &'static str)],
    pub documentation: &'static str,
}

/// The day [`RESOURCES`] last changed: the statement's `date`.
pub const DATE: &str = "2026-11-30";

pub const RESOURCES: &[ResourceSupport] = &[
    ResourceSupport {
        kind: "Patient",
        interactions: &["read", "search-type"],
        search: &[(
            "identifier",
            "token",
            "The citizen id: SYSTEM|ID or ID alone; required",
        )],
        documentation: "People of the population registry inside the caller's jurisdiction, read only: the facade never creates or changes a registry record. The logical id is the citizen id.",
    },
    ResourceSupport {
        kind: "Immunization",
        interactions: &["search-type"],
        search: &[(
            "patient",
            "reference",
            "Chained on the identifier only: patient.identifier=SYSTEM|ID (or ID alone); required",
        )],
        documentation: "COVID-19 doses (vaccineCode from the EU value set vaccines-covid-19-names). Created only in transactions: POST Immunization entries whose patient is Patient?identifier=SYSTEM|ID or an identifier.",
    },
    ResourceSupport {
        kind: "Specimen",
        interactions: &["read"],
        search: &[],
        documentation: "A sample, identified by its printed label (system urn:kiemdich:sample-label, M-…); the logical id is the sample's id. Created only in laboratory transactions, naming a sample ordered here: the Specimen of each Observation.",
    },
    ResourceSupport {
        kind: "Observation",
        interactions: &["read", "search-type"],
        search: &[
            (
                "patient",
                "reference",
                "Patient/CITIZEN_ID (or the id alone); this or patient.identifier is required",
            ),
            (
                "patient.identifier",
                "token",
                "Chained on the identifier: SYSTEM|CITIZEN_ID (or the id alone)",
            ),
        ],
        documentation: "A SARS-CoV-2 result: code LOINC 94500-6 (PCR) or 94558-4 (rapid antigen), valueCodeableConcept SNOMED CT 260373001 detected or 260415000 not detected (an invalid test: dataAbsentReason error), the Ct value as a component LOINC 94745-7, the laboratory as performer.display, issued when tested. Created in laboratory transactions (lab, health, admin in their jurisdiction) and recorded with its effects (a PCR positive opens a case); the same result sent again changes nothing.",
    },
    ResourceSupport {
        kind: "DiagnosticReport",
        interactions: &["read", "search-type"],
        search: &[
            (
                "patient",
                "reference",
                "Patient/CITIZEN_ID (or the id alone); this or patient.identifier is required",
            ),
            (
                "patient.identifier",
                "token",
                "Chained on the identifier: SYSTEM|CITIZEN_ID (or the id alone)",
            ),
        ],
        documentation: "The report of one result (the logical id is the sample's id), its result the Observation. In laboratory transactions it refers to Observations of the same bundle by their fullUrl.",
    },
];

/// An R4 CapabilityStatement (kind `instance`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CapabilityStatement {
    pub resource_type: &'static str,
    pub status: &'static str,
    pub date: String,
    pub publisher: String,
    pub kind: &'static str,
    pub software: Software,
    pub implementation: Implementation,
    pub fhir_version: &'static str,
    pub format: Vec<&'static str>,
    pub rest: Vec<Rest>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Software {
    pub name: &'static str,
    pub version: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Implementation {
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rest {
    pub mode: &'static str,
    pub documentation: &'static str,
    pub security: Security,
    pub resource: Vec<RestResource>,
    pub interaction: Vec<Interaction>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Security {
    pub cors: bool,
    pub description: &'static str,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RestResource {
    pub r#type: &'static str,
    pub documentation: &'static str,
    pub interaction: Vec<Interaction>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub search_param: Vec<SearchParam>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Interaction {
    pub code: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchParam {
    pub name: &'static str,
    pub r#type: &'static str,
    pub documentation: &'static str,
}

impl CapabilityStatement {
    /// The statement of this server: `base` is its FHIR base URL when known, `publisher` who runs it, `date`
    /// the day the statement last changed ([`DATE`]).
    pub fn new(base: Option<String>, publisher: String, date: String) -> CapabilityStatement {
        CapabilityStatement {
            resource_type: "CapabilityStatement",
            status: "active",
            date,
            publisher,
            kind: "instance",
            software: Software {
                name: "kiemdich",
                version: env!("CARGO_PKG_VERSION"),
            },
            implementation: Implementation {
                description:
                    "kiemdich FHIR R4 facade: the registry's people, their COVID-19 doses and SARS-CoV-2 test results".into(),
                url: base,
            },
            fhir_version: super::FHIR_VERSION,
            format: vec!["json", "application/fhir+json"],
            rest: vec![Rest {
                mode: "server",
                documentation: "JSON only. Staff tokens or sessions with the health, admin or integration role, inside their jurisdiction; laboratories (the lab role) send and read results only. Every read of a person is audited. Bodies up to 8 MiB.",
                security: Security {
                    cors: false,
                    description: "Authorization: Bearer TOKEN (a kiemdich API token or staff session)",
                },
                resource: RESOURCES
                    .iter()
                    .map(|r| RestResource {
                        r#type: r.kind,
                        documentation: r.documentation,
                        interaction: r
                            .interactions
                            .iter()
                            .map(|&code| Interaction { code })
                            .collect(),
                        search_param: r
                            .search
                            .iter()
                            .map(|&(name, r#type, documentation)| SearchParam {
                                name,
                                r#type,
                                documentation,
                            })
                            .collect(),
                    })
                    .collect(),
                interaction: vec![Interaction {
                    code: "transaction",
                }],
            }],
        }
    }
}
