//! Errors on the facade, answered as an OperationOutcome. One [`FhirError`] holds one or more issues; each
//! issue's [`Problem`] decides its FHIR issue code and the HTTP status (the first issue's status is the answer's).

use super::FHIR_JSON;
use crate::error::{ApiError, ErrorCode, request_lang};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kiemdich_domain::catalogue::{ApiText, Message as _, fill};
use serde::Serialize;

/// What went wrong with a request or one element of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// Not JSON, not the resource expected, or an element R4 does not define: 400 `structure`.
    Structure,
    /// A required element is missing: 400 `required`.
    Required,
    /// An element's value is malformed (a date that is not a date): 400 `value`.
    Value,
    /// A code from a system this server does not read: 422 `code-invalid`.
    CodeInvalid,
    /// A rule of this server: a date in the future, a dose past its series, a dose before birth: 422
    /// `business-rule`.
    BusinessRule,
    /// A reference to a person who is not in the registry of the caller's jurisdiction (the two answer alike):
    /// 422 `not-found`.
    UnknownReference,
    /// A modifier extension, or `implicitRules`, which a reader must understand or refuse: 422 `extension`.
    Modifier,
    /// Valid FHIR that this server does not take (a batch, a PUT, a dose number as text): 422 `not-supported`.
    Unsupported,
    /// A dose that conflicts with a stored one (same person, product and day, other details): 409 `conflict`.
    Conflict,
    /// No token or session, or an unknown one: 401 `login`.
    Login,
    /// A role that may not use the facade: 403 `forbidden`.
    Forbidden,
    /// Unknown, or outside the caller's jurisdiction (the two answer alike): 404 `not-found`.
    NotFound,
    /// An interaction this server does not offer: 501 `not-supported`.
    NotImplemented,
    /// Asked for a format other than JSON: 406 `not-supported`.
    NotAcceptable,
    /// A body in a media type other than FHIR JSON: 415 `not-supported`.
    UnsupportedMediaType,
    /// A body over the facade's limit: 413 `too-long`.
    TooLong,
    /// Too many requests: 429 `throttled`.
    Throttled,
    /// The database is away or full for now; nothing was applied: 503 `transient`.
    Transient,
    /// The server failed; nothing was applied: 500 `exception`.
    Exception,
}

impl Problem {
    pub const ALL: [Problem; 19] = [
        Problem::Structure,
        Problem::Required,
        Problem::Value,
        Problem::CodeInvalid,
        Problem::BusinessRule,
        Problem::UnknownReference,
        Problem::Modifier,
        Problem::Unsupported,
        Problem::Conflict,
        Problem::Login,
        Problem::Forbidden,
        Problem::NotFound,
        Problem::NotImplemented,
        Problem::NotAcceptable,
        Problem::UnsupportedMediaType,
        Problem::TooLong,
        Problem::Throttled,
        Problem::Transient,
        Problem::Exception,
    ];

    pub fn status(self) -> StatusCode {
        match self {
            Problem::Structure | Problem::Required | Problem::Value => StatusCode::BAD_REQUEST,
            Problem::CodeInvalid
            | Problem::BusinessRule
            | Problem::UnknownReference
            | Problem::Modifier
            | Problem::Unsupported => StatusCode::UNPROCESSABLE_ENTITY,
            Problem::Conflict => StatusCode::CONFLICT,
            Problem::Login => StatusCode::UNAUTHORIZED,
            Problem::Forbidden => StatusCode::FORBIDDEN,
            Problem::NotFound => StatusCode::NOT_FOUND,
            Problem::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            Problem::NotAcceptable => StatusCode::NOT_ACCEPTABLE,
            Problem::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Problem::TooLong => StatusCode::PAYLOAD_TOO_LARGE,
            Problem::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Problem::Transient => StatusCode::SERVICE_UNAVAILABLE,
            Problem::Exception => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The code of the R4 value set `issue-type`.
    pub fn code(self) -> &'static str {
        match self {
            Problem::Structure => "structure",
            Problem::Required => "required",
            Problem::Value => "value",
            Problem::CodeInvalid => "code-invalid",
            Problem::BusinessRule => "business-rule",
            Problem::UnknownReference | Problem::NotFound => "not-found",
            Problem::Modifier => "extension",
            Problem::Unsupported
            | Problem::NotImplemented
            | Problem::NotAcceptable
            | Problem::UnsupportedMediaType => "not-supported",
            Problem::Conflict => "conflict",
            Problem::Login => "login",
            Problem::Forbidden => "forbidden",
            Problem::TooLong => "too-long",
            Problem::Throttled => "throttled",
            Problem::Transient => "transient",
            Problem::Exception => "exception",
        }
    }

    /// What a person reads for it, from the catalogue (the issue's `details.text`).
    fn text(self) -> ApiText {
        match self {
            Problem::Structure | Problem::Required | Problem::Value => ApiText::Invalid,
            Problem::CodeInvalid
            | Problem::BusinessRule
            | Problem::Modifier
            | Problem::Unsupported => ApiText::Invalid,
            Problem::UnknownReference | Problem::NotFound => ApiText::NotFound,
            Problem::Conflict => ApiText::Conflict,
            Problem::Login => ApiText::Unauthorized,
            Problem::Forbidden => ApiText::Forbidden,
            Problem::NotImplemented | Problem::NotAcceptable | Problem::UnsupportedMediaType => {
                ApiText::NotSupported
            }
            Problem::TooLong => ApiText::TooLarge,
            Problem::Throttled => ApiText::RateLimited,
            Problem::Transient => ApiText::Unavailable,
            Problem::Exception => ApiText::Internal,
        }
    }
}

/// One issue: its problem, the FHIRPath of the element at fault (`Bundle.entry[3].resource.patient`) and the
/// English detail for developers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub problem: Problem,
    pub expression: Option<String>,
    pub diagnostics: String,
}

impl Issue {
    /// Modifier extensions on the element at `path`, which a reader must understand or refuse.
    pub fn modifier_extension(path: &str) -> Issue {
        Issue::new(
            Problem::Modifier,
            format!("{path}.modifierExtension"),
            "modifier extensions are not understood here and may not be ignored",
        )
    }

    pub fn new(
        problem: Problem,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) -> Issue {
        Issue {
            problem,
            expression: Some(expression.into()),
            diagnostics: diagnostics.into(),
        }
    }
}

/// A refusal on the facade: at least one issue. Nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FhirError {
    pub issues: Vec<Issue>,
    /// For 429: seconds to wait (`Retry-After`).
    retry_after: Option<u64>,
}

/// At most this many issues are listed in one answer: the first ones tell the sender what to fix.
pub const MAX_ISSUES: usize = 100;

pub type FhirResult<T> = Result<T, FhirError>;

impl FhirError {
    /// One issue that names no element.
    pub fn new(problem: Problem, diagnostics: impl Into<String>) -> FhirError {
        FhirError {
            issues: vec![Issue {
                problem,
                expression: None,
                diagnostics: diagnostics.into(),
            }],
            retry_after: None,
        }
    }

    /// One issue at `expression`.
    pub fn at(
        problem: Problem,
        expression: impl Into<String>,
        diagnostics: impl Into<String>,
    ) -> FhirError {
        FhirError::issues(vec![Issue::new(problem, expression, diagnostics)])
    }

    /// Several issues (at most [`MAX_ISSUES`] are kept); an empty list is a server failure.
    pub fn issues(mut issues: Vec<Issue>) -> FhirError {
        if issues.is_empty() {
            return FhirError::internal("a refusal without an issue");
        }
        issues.truncate(MAX_ISSUES);
        FhirError {
            issues,
            retry_after: None,
        }
    }

    pub fn internal(e: impl std::fmt::Display) -> FhirError {
        tracing::error!(error = %e, "internal error on the FHIR facade");
        FhirError::new(
            Problem::Exception,
            "the server failed; the request was not applied",
        )
    }

    pub fn status(&self) -> StatusCode {
        self.issues
            .first()
            .map_or(StatusCode::INTERNAL_SERVER_ERROR, |i| i.problem.status())
    }

    /// The OperationOutcome resource this refusal answers with.
    pub fn outcome(&self) -> OperationOutcome {
        let lang = request_lang();
        let seconds = self.retry_after.unwrap_or(1).to_string();
        OperationOutcome {
            resource_type: "OperationOutcome",
            issue: self
                .issues
                .iter()
                .map(|i| OutcomeIssue {
                    severity: "error",
                    code: i.problem.code(),
                    details: Some(CodeableText {
                        text: fill(i.problem.text().text(lang), &[("seconds", &seconds)]),
                    }),
                    diagnostics: Some(i.diagnostics.clone()).filter(|d| !d.is_empty()),
                    expression: i.expression.iter().cloned().collect(),
                })
                .collect(),
        }
    }
}

impl From<ApiError> for FhirError {
    /// A refusal of the server's shared parts (authentication, jurisdiction, the store) as the facade says it.
    fn from(e: ApiError) -> FhirError {
        let problem = match e.code {
            ErrorCode::Invalid | ErrorCode::InvalidBody | ErrorCode::InvalidPass => Problem::Value,
            ErrorCode::UnsupportedMediaType => Problem::UnsupportedMediaType,
            ErrorCode::TooLarge => Problem::TooLong,
            ErrorCode::Unauthorized => Problem::Login,
            ErrorCode::Forbidden => Problem::Forbidden,
            ErrorCode::NotFound => Problem::NotFound,
            ErrorCode::Conflict | ErrorCode::IdempotencyConflict => Problem::Conflict,
            ErrorCode::RateLimited => Problem::Throttled,
            ErrorCode::Unavailable => Problem::Transient,
            ErrorCode::NoSigningKey | ErrorCode::Internal => Problem::Exception,
        };
        FhirError {
            retry_after: e.retry_after,
            ..FhirError::new(problem, e.detail)
        }
    }
}

impl From<kiemdich_store::StoreError> for FhirError {
    fn from(e: kiemdich_store::StoreError) -> FhirError {
        FhirError::from(ApiError::from(e))
    }
}

/// An R4 OperationOutcome.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationOutcome {
    pub resource_type: &'static str,
    pub issue: Vec<OutcomeIssue>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutcomeIssue {
    pub severity: &'static str,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<CodeableText>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub expression: Vec<String>,
}

/// A CodeableConcept with text only.
#[derive(Debug, Clone, Serialize)]
pub struct CodeableText {
    pub text: String,
}

impl IntoResponse for FhirError {
    fn into_response(self) -> Response {
        let mut res = (self.status(), super::Fhir(self.outcome())).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(FHIR_JSON));
        res
    }
}
