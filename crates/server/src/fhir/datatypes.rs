//! The R4 data types the facade writes and reads. Types going out carry only what the server fills in; types
//! coming in (`…In`) list every element R4 defines for them, so that anything else is refused (see the
//! module documentation of [`super`]). `_element` keys are the JSON form of a primitive's id and extensions.

use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};

/// An R4 Coding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coding {
    pub system: String,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// An R4 CodeableConcept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// An R4 Identifier.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identifier {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#use: Option<&'static str>,
    pub system: String,
    pub value: String,
}

/// An R4 Reference.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Reference {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub r#type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identifier: Option<Identifier>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// Element ids and extensions, which every R4 element may carry and which the facade reads past.
pub type Ignored = Option<IgnoredAny>;

/// An R4 Coding as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodingIn {
    pub id: Ignored,
    pub extension: Ignored,
    pub system: Option<String>,
    #[serde(rename = "_system")]
    pub system_ext: Ignored,
    pub version: Option<String>,
    #[serde(rename = "_version")]
    pub version_ext: Ignored,
    pub code: Option<String>,
    #[serde(rename = "_code")]
    pub code_ext: Ignored,
    pub display: Option<String>,
    #[serde(rename = "_display")]
    pub display_ext: Ignored,
    #[serde(rename = "userSelected")]
    pub user_selected: Option<bool>,
    #[serde(rename = "_userSelected")]
    pub user_selected_ext: Ignored,
}

/// An R4 CodeableConcept as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeableConceptIn {
    pub id: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub coding: Vec<CodingIn>,
    pub text: Option<String>,
    #[serde(rename = "_text")]
    pub text_ext: Ignored,
}

/// An R4 Identifier as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentifierIn {
    pub id: Ignored,
    pub extension: Ignored,
    pub r#use: Option<String>,
    #[serde(rename = "_use")]
    pub use_ext: Ignored,
    pub r#type: Ignored,
    pub system: Option<String>,
    #[serde(rename = "_system")]
    pub system_ext: Ignored,
    pub value: Option<String>,
    #[serde(rename = "_value")]
    pub value_ext: Ignored,
    pub period: Ignored,
    pub assigner: Ignored,
}

/// An R4 Reference as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReferenceIn {
    pub id: Ignored,
    pub extension: Ignored,
    pub reference: Option<String>,
    #[serde(rename = "_reference")]
    pub reference_ext: Ignored,
    pub r#type: Option<String>,
    #[serde(rename = "_type")]
    pub type_ext: Ignored,
    pub identifier: Option<IdentifierIn>,
    pub display: Option<String>,
    #[serde(rename = "_display")]
    pub display_ext: Ignored,
}

/// A trimmed text that holds something (FHIR strings are never empty).
pub fn text(s: Option<&String>) -> Option<&str> {
    s.map(|s| s.trim()).filter(|s| !s.is_empty())
}
