//! The HL7 FHIR R4 (4.0.1) facade under `/fhir`: the few resources the exchange with health systems needs,
//! as hand-written serde types, and their mappings to plain typed structs.
//!
//! - A module per resource ([`patient`], [`immunization`], and [`lab`] for the Specimen, Observation and
//!   DiagnosticReport of a test result), the [`bundle`]s that carry them, the [`capability`] statement and
//!   the [`outcome`] every refusal answers with.
//! - Resources going out are `Serialize` structs whose every element is an R4 element; resources coming in
//!   are read by types that list every element R4 defines for them (`deny_unknown_fields`): an element R4 does
//!   not define is refused as `structure` rather than silently lost, while R4 elements this server does not
//!   use are read and ignored, except modifier extensions and `implicitRules`, which the specification forbids
//!   ignoring (refused as `extension`).
//! - Media type `application/fhir+json` (`application/json` is accepted too); answers are always FHIR JSON;
//!   `_format` may ask for JSON, never XML. Bodies of up to [`MAX_BODY_BYTES`] (a transaction of thousands
//!   of doses), where the rest of the server takes 64 KiB.

pub mod bundle;
pub mod capability;
pub mod datatypes;
pub mod document;
pub mod immunization;
pub mod lab;
pub mod outcome;
pub mod patient;

pub use bundle::{Bundle, TransactionEntry};
pub use immunization::{ImmunizationIn, ImmunizationOut, Recorded};
pub use outcome::{FhirError, FhirResult, Issue, Problem};

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The FHIR JSON media type, as every answer of the facade is labelled.
pub const FHIR_JSON: &str = "application/fhir+json; charset=utf-8";

/// The FHIR version the facade implements.
pub const FHIR_VERSION: &str = "4.0.1";

/// The largest body the facade takes: 8 MiB.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Where the facade lives.
pub const BASE_PATH: &str = "/fhir";

/// The default identifier system of the Vietnamese citizen identity number (CCCD, 12 digits): the URI of the
/// `vn-cccd-ns` NamingSystem of the VN Core FHIR implementation guide (HL7 Vietnam, draft). A deployment whose
/// partners use another sets `--fhir-citizen-system`.
pub const DEFAULT_CITIZEN_SYSTEM: &str = "http://fhir.hl7.org.vn/core/sid/cccd";

/// Checks an identifier system given in configuration: an absolute URI (`http://`, `https://`, `urn:`) without
/// spaces or `|`, which would break the `SYSTEM|VALUE` tokens that name people.
pub fn check_system(system: &str) -> Result<(), String> {
    let absolute = ["http://", "https://", "urn:"]
        .iter()
        .any(|p| system.starts_with(p) && system.len() > p.len());
    if absolute && !system.contains(|c: char| c.is_whitespace() || c == '|') {
        Ok(())
    } else {
        Err(format!(
            "identifier system {system:?} must be an absolute URI (http://, https:// or urn:) without spaces or '|'"
        ))
    }
}

/// Whether a request path belongs to the facade (its refusals are OperationOutcomes, its body limit 8 MiB).
pub fn is_fhir_path(path: &str) -> bool {
    path == BASE_PATH
        || path
            .strip_prefix(BASE_PATH)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// A resource answered as FHIR JSON.
pub struct Fhir<T>(pub T);

impl<T: serde::Serialize> IntoResponse for Fhir<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(body) => (
                [(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON))],
                body,
            )
                .into_response(),
            Err(e) => FhirError::internal(e).into_response(),
        }
    }
}

/// Refuses (415) a body that is not FHIR JSON: `application/fhir+json` or `application/json`, with any
/// parameters (`charset=utf-8`, `fhirVersion=4.0`).
pub fn check_content_type(headers: &HeaderMap) -> FhirResult<()> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match media.as_deref() {
        Some("application/fhir+json" | "application/json") => Ok(()),
        Some(other) => Err(FhirError::new(
            Problem::UnsupportedMediaType,
            format!("the body must be application/fhir+json, not {other}"),
        )),
        None => Err(FhirError::new(
            Problem::UnsupportedMediaType,
            "the body needs Content-Type: application/fhir+json",
        )),
    }
}

/// Refuses (406) a request that asks for a format other than JSON, by `_format` (which wins) or `Accept`.
pub fn check_format(format: Option<&str>, headers: &HeaderMap) -> FhirResult<()> {
    if let Some(f) = format {
        // A `+` left unencoded in the query arrives as a space.
        return match f.trim().replace(' ', "+").to_ascii_lowercase().as_str() {
            "json" | "application/json" | "application/fhir+json" | "fhir+json" => Ok(()),
            other => Err(FhirError::new(
                Problem::NotAcceptable,
                format!(
                    "_format {other:?}: this server answers JSON only (json, application/fhir+json)"
                ),
            )),
        };
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let json = accept.split(',').any(|m| {
        let media = m
            .split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        matches!(
            media.as_str(),
            "" | "*/*" | "application/*" | "application/json" | "application/fhir+json"
        )
    });
    if json {
        Ok(())
    } else {
        Err(FhirError::new(
            Problem::NotAcceptable,
            format!("Accept {accept:?}: this server answers application/fhir+json only"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fhir_paths() {
        assert!(is_fhir_path("/fhir"));
        assert!(is_fhir_path("/fhir/Patient"));
        assert!(!is_fhir_path("/fhirx"));
        assert!(!is_fhir_path("/api/v1/fhir"));
    }

    #[test]
    fn systems_are_absolute_uris() {
        assert!(check_system(DEFAULT_CITIZEN_SYSTEM).is_ok());
        assert!(check_system("urn:oid:2.16.704.1").is_ok());
        for bad in ["", "cccd", "http://", "http://a b", "urn:a|b"] {
            assert!(check_system(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn formats() {
        let mut h = HeaderMap::new();
        assert!(check_format(None, &h).is_ok());
        assert!(check_format(Some("json"), &h).is_ok());
        assert!(check_format(Some("xml"), &h).is_err());
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("application/fhir+xml"),
        );
        assert!(check_format(None, &h).is_err());
        assert!(check_format(Some("application/fhir+json"), &h).is_ok());
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("text/html, */*;q=0.1"),
        );
        assert!(check_format(None, &h).is_ok());
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/fhir+json; fhirVersion=4.0"),
        );
        assert!(check_content_type(&h).is_ok());
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        assert_eq!(
            check_content_type(&h).unwrap_err().status(),
            axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE
        );
    }
}
