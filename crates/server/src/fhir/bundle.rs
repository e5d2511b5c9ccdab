//! Bundles: the searchset a search answers, the transaction a sender posts and the transaction-response that
//! answers it. A transaction is all or nothing (R4 http.html#transaction): one entry that fails fails the
//! whole, answered by one OperationOutcome naming the entries at fault.

use super::datatypes::Ignored;
use super::immunization::{CheckContext, Immunization, ImmunizationIn, Recorded};
use super::lab::{
    DiagnosticReport, LabEntry, Observation, ObservationIn, ReportIn, Specimen, SpecimenIn,
};
use super::outcome::{FhirError, FhirResult, Issue, OperationOutcome, Problem};
use super::patient::Patient;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An R4 Bundle as the facade writes it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Bundle {
    pub resource_type: &'static str,
    pub r#type: &'static str,
    /// When the bundle was assembled (RFC 3339).
    pub timestamp: String,
    /// Searchsets only (bdl-1): how many matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total: Option<usize>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub link: Vec<Link>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub relation: &'static str,
    pub url: String,
}

/// One entry of a bundle the facade writes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Entry {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub full_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource: Option<EntryResource>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub search: Option<Search>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub response: Option<Response>,
}

/// The resources a bundle of the facade carries (each writes its own `resourceType`).
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum EntryResource {
    Patient(Box<Patient>),
    Immunization(Box<Immunization>),
    Specimen(Box<Specimen>),
    Observation(Box<Observation>),
    DiagnosticReport(Box<DiagnosticReport>),
    OperationOutcome(OperationOutcome),
}

impl EntryResource {
    fn kind_and_id(&self) -> (&'static str, Option<&str>) {
        match self {
            EntryResource::Patient(p) => ("Patient", Some(&p.id)),
            EntryResource::Immunization(i) => ("Immunization", Some(&i.id)),
            EntryResource::Specimen(s) => ("Specimen", Some(&s.id)),
            EntryResource::Observation(o) => ("Observation", Some(&o.id)),
            EntryResource::DiagnosticReport(d) => ("DiagnosticReport", Some(&d.id)),
            EntryResource::OperationOutcome(_) => ("OperationOutcome", None),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Search {
    pub mode: &'static str,
}

/// `Bundle.entry.response` of a transaction-response.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
}

impl Bundle {
    /// A searchset of `matches` (`total` is their number), found by `self_url`; `base` (`https://…/fhir`)
    /// makes each entry's `fullUrl`.
    pub fn searchset(
        matches: Vec<EntryResource>,
        self_url: String,
        base: Option<&str>,
        now: i64,
    ) -> Bundle {
        Bundle {
            resource_type: "Bundle",
            r#type: "searchset",
            timestamp: crate::routes::rfc3339(now),
            total: Some(matches.len()),
            link: vec![Link {
                relation: "self",
                url: self_url,
            }],
            entry: matches
                .into_iter()
                .map(|r| {
                    let (kind, id) = r.kind_and_id();
                    Entry {
                        full_url: base.zip(id).map(|(b, id)| format!("{b}/{kind}/{id}")),
                        resource: Some(r),
                        search: Some(Search { mode: "match" }),
                        response: None,
                    }
                })
                .collect(),
        }
    }

    /// The answer to a transaction of Immunizations, an entry per request in order.
    pub fn transaction_response(recorded: &[Recorded], now: i64) -> Bundle {
        Bundle::transaction_answer(
            recorded.iter().map(|r| match r {
                Recorded::Created(id) => (true, format!("Immunization/{id}")),
                Recorded::Unchanged(id) => (false, format!("Immunization/{id}")),
            }),
            now,
        )
    }

    /// The answer to a transaction: an entry per request in order, `(created, location)` each (`201 Created`
    /// for a new resource, `200 OK` for one stored before).
    pub fn transaction_answer(
        answers: impl IntoIterator<Item = (bool, String)>,
        now: i64,
    ) -> Bundle {
        Bundle {
            resource_type: "Bundle",
            r#type: "transaction-response",
            timestamp: crate::routes::rfc3339(now),
            total: None,
            link: Vec::new(),
            entry: answers
                .into_iter()
                .map(|(created, location)| Entry {
                    full_url: None,
                    resource: None,
                    search: None,
                    response: Some(Response {
                        status: if created { "201 Created" } else { "200 OK" },
                        location: Some(location),
                    }),
                })
                .collect(),
        }
    }
}

/// An R4 Bundle as received: every element R4 defines; entries' resources stay JSON until their type is known.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BundleJson {
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
    pub identifier: Ignored,
    pub r#type: Option<String>,
    #[serde(rename = "_type")]
    pub type_ext: Ignored,
    pub timestamp: Ignored,
    #[serde(rename = "_timestamp")]
    pub timestamp_ext: Ignored,
    pub total: Ignored,
    #[serde(rename = "_total")]
    pub total_ext: Ignored,
    pub link: Ignored,
    #[serde(default)]
    pub entry: Vec<EntryJson>,
    pub signature: Ignored,
}

/// `Bundle.entry` as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EntryJson {
    pub id: Ignored,
    #[serde(rename = "_id")]
    pub id_ext: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub modifier_extension: Vec<Value>,
    pub link: Ignored,
    pub full_url: Option<String>,
    #[serde(rename = "_fullUrl")]
    pub full_url_ext: Ignored,
    pub resource: Option<Value>,
    pub search: Ignored,
    pub request: Option<RequestJson>,
    pub response: Ignored,
}

/// `Bundle.entry.request` as received.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RequestJson {
    pub id: Ignored,
    #[serde(rename = "_id")]
    pub id_ext: Ignored,
    pub extension: Ignored,
    #[serde(default)]
    pub modifier_extension: Vec<Value>,
    pub method: Option<String>,
    #[serde(rename = "_method")]
    pub method_ext: Ignored,
    pub url: Option<String>,
    #[serde(rename = "_url")]
    pub url_ext: Ignored,
    pub if_none_match: Option<String>,
    #[serde(rename = "_ifNoneMatch")]
    pub if_none_match_ext: Ignored,
    pub if_modified_since: Option<String>,
    #[serde(rename = "_ifModifiedSince")]
    pub if_modified_since_ext: Ignored,
    pub if_match: Option<String>,
    #[serde(rename = "_ifMatch")]
    pub if_match_ext: Ignored,
    pub if_none_exist: Option<String>,
    #[serde(rename = "_ifNoneExist")]
    pub if_none_exist_ext: Ignored,
}

/// One checked entry of a transaction, in the order sent; the laboratory's resources with their index and
/// `fullUrl`, by which they refer to each other.
#[derive(Debug, Clone, PartialEq)]
pub enum TransactionEntry {
    Immunization(ImmunizationIn),
    Specimen(LabEntry<SpecimenIn>),
    Observation(LabEntry<ObservationIn>),
    DiagnosticReport(LabEntry<ReportIn>),
}

/// The most entries one transaction may hold.
pub const MAX_ENTRIES: usize = 20_000;

/// Reads a transaction Bundle (the request body) and checks every entry: the doses in order, or every
/// problem found (as many as [`super::outcome::MAX_ISSUES`]), each at its element.
pub fn read_transaction(body: &[u8], cx: CheckContext<'_>) -> FhirResult<Vec<TransactionEntry>> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| FhirError::new(Problem::Structure, format!("the body is not JSON: {e}")))?;
    match value.get("resourceType").and_then(Value::as_str) {
        Some("Bundle") => {}
        Some(other) => {
            return Err(FhirError::at(
                Problem::Structure,
                other,
                format!("POST /fhir takes a transaction Bundle, not a {other}"),
            ));
        }
        None => {
            return Err(FhirError::new(
                Problem::Structure,
                "the body has no resourceType: send a transaction Bundle",
            ));
        }
    }
    let bundle: BundleJson = serde_json::from_value(value).map_err(|e| {
        FhirError::at(
            Problem::Structure,
            "Bundle",
            format!("not an R4 Bundle: {e}"),
        )
    })?;
    if bundle.implicit_rules.is_some() {
        return Err(FhirError::at(
            Problem::Modifier,
            "Bundle.implicitRules",
            "implicit rules are not understood here and may not be ignored",
        ));
    }
    match bundle.r#type.as_deref() {
        Some("transaction") => {}
        Some(other) => {
            return Err(FhirError::at(
                Problem::Unsupported,
                "Bundle.type",
                format!("POST /fhir takes a transaction (all or nothing), not a {other}"),
            ));
        }
        None => {
            return Err(FhirError::at(
                Problem::Required,
                "Bundle.type",
                "Bundle.type is required",
            ));
        }
    }
    if bundle.entry.len() > MAX_ENTRIES {
        return Err(FhirError::at(
            Problem::TooLong,
            "Bundle.entry",
            format!("a transaction holds at most {MAX_ENTRIES} entries; split it"),
        ));
    }
    let mut issues = Vec::new();
    let mut entries = Vec::with_capacity(bundle.entry.len());
    for (i, e) in bundle.entry.into_iter().enumerate() {
        if issues.len() >= super::outcome::MAX_ISSUES {
            break;
        }
        match entry(e, i, cx) {
            Ok(one) => entries.push(one),
            Err(mut found) => issues.append(&mut found),
        }
    }
    if issues.is_empty() {
        Ok(entries)
    } else {
        Err(FhirError::issues(issues))
    }
}

/// The resources a transaction may create.
const CREATED: &[&str] = &[
    "Immunization",
    "Specimen",
    "Observation",
    "DiagnosticReport",
];

fn entry(e: EntryJson, index: usize, cx: CheckContext<'_>) -> Result<TransactionEntry, Vec<Issue>> {
    let at = &format!("Bundle.entry[{index}]");
    if !e.modifier_extension.is_empty() {
        return Err(vec![Issue::modifier_extension(at)]);
    }
    let Some(request) = e.request else {
        return Err(vec![Issue::new(
            Problem::Required,
            format!("{at}.request"),
            "every entry of a transaction needs a request (bdl-3)",
        )]);
    };
    if !request.modifier_extension.is_empty() {
        return Err(vec![Issue::modifier_extension(&format!("{at}.request"))]);
    }
    let method = request.method.as_deref().unwrap_or_default();
    let url = request.url.as_deref().unwrap_or_default().trim();
    if method != "POST" || !CREATED.contains(&url) {
        return Err(vec![Issue::new(
            Problem::Unsupported,
            format!("{at}.request"),
            format!(
                "this server takes POST entries of {}, not {method} {url}",
                CREATED.join(", ")
            ),
        )]);
    }
    if request.if_none_exist.is_some()
        || request.if_match.is_some()
        || request.if_none_match.is_some()
        || request.if_modified_since.is_some()
    {
        return Err(vec![Issue::new(
            Problem::Unsupported,
            format!("{at}.request"),
            "conditional creates are not needed: the same dose or result sent again is recognised and left unchanged",
        )]);
    }
    let Some(resource) = e.resource else {
        return Err(vec![Issue::new(
            Problem::Required,
            format!("{at}.resource"),
            "a POST entry needs its resource",
        )]);
    };
    let path = format!("{at}.resource");
    let url_of = e.full_url.as_deref().map(str::trim).map(str::to_owned);
    match url {
        "Specimen" => SpecimenIn::check(resource, &path, cx.citizen_system)
            .map(|r| TransactionEntry::Specimen(LabEntry::new(index, url_of, r))),
        "Observation" => ObservationIn::check(resource, &path, cx.citizen_system)
            .map(|r| TransactionEntry::Observation(LabEntry::new(index, url_of, r))),
        "DiagnosticReport" => ReportIn::check(resource, &path, cx.citizen_system)
            .map(|r| TransactionEntry::DiagnosticReport(LabEntry::new(index, url_of, r))),
        _ => ImmunizationIn::check(resource, &path, cx).map(TransactionEntry::Immunization),
    }
}
