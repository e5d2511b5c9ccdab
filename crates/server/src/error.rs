//! One error type for the API, mapped to `{error, message, fields}` with a 4xx status for anything a user
//! can cause; only failures of the system itself are 500, and those are logged, not shown.

use axum::Json;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiemdich_domain::catalogue::{ApiText, Lang, Message as _, Problem, fill};
use kiemdich_domain::{AsProblem, FieldErrors};
use kiemdich_store::StoreError;
use serde_json::json;

/// What went wrong, as clients branch on it: a stable `error` code in every answer, and the HTTP status that
/// goes with it. The variant decides the status; nothing else does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// Fields that fail their checks, each named in `fields`.
    Invalid,
    /// A body that is not the JSON the endpoint reads.
    InvalidBody,
    UnsupportedMediaType,
    TooLarge,
    Unauthorized,
    Forbidden,
    /// Unknown, or outside the caller's jurisdiction: the two answer alike.
    NotFound,
    Conflict,
    /// An idempotency key reused for a different scan.
    IdempotencyConflict,
    /// A scanned token that is not a genuine pass.
    InvalidPass,
    RateLimited,
    NoSigningKey,
    /// The database is away or full for now: nothing was applied; send the same request again later.
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Invalid => "invalid",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::IdempotencyConflict => "idempotency_conflict",
            ErrorCode::InvalidPass => "invalid_pass",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::NoSigningKey => "no_signing_key",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::Invalid | ErrorCode::InvalidBody | ErrorCode::InvalidPass => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict | ErrorCode::IdempotencyConflict => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::NoSigningKey | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl ErrorCode {
    /// What the caller reads for this code, unless the error names something more precise.
    fn text(self) -> ApiText {
        match self {
            ErrorCode::Invalid => ApiText::Invalid,
            ErrorCode::InvalidBody | ErrorCode::UnsupportedMediaType => ApiText::InvalidBody,
            ErrorCode::TooLarge => ApiText::TooLarge,
            ErrorCode::Unauthorized => ApiText::Unauthorized,
            ErrorCode::Forbidden => ApiText::Forbidden,
            ErrorCode::NotFound => ApiText::NotFound,
            ErrorCode::Conflict => ApiText::Conflict,
            ErrorCode::IdempotencyConflict => ApiText::IdempotencyConflict,
            ErrorCode::InvalidPass => ApiText::InvalidPass,
            ErrorCode::RateLimited => ApiText::RateLimited,
            ErrorCode::NoSigningKey => ApiText::NoSigningKey,
            ErrorCode::Unavailable => ApiText::Unavailable,
            ErrorCode::Internal => ApiText::Internal,
        }
    }
}

/// The `Retry-After` of a 503 while the database is away: about how long a PostgreSQL restart or a failover
/// takes, short enough that a scanner's queue drains soon after it is back. A protocol hint to clients, not a
/// rule of the epidemic response.
pub const UNAVAILABLE_RETRY_SECS: u64 = 2;

tokio::task_local! {
    /// The language of the request being answered, set by [`in_language`] around every handler.
    static LANG: Lang;
}

/// The language of the request being answered: the language cookie, else `Accept-Language`, else Vietnamese.
pub fn request_lang() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// The language a request asks for: the language cookie, else `Accept-Language`, else Vietnamese.
pub(crate) fn language_of(headers: &axum::http::HeaderMap) -> Lang {
    crate::auth::cookie(headers, crate::pages::LANG_COOKIE)
        .and_then(Lang::parse)
        .or_else(|| {
            headers
                .get(axum::http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// Runs `answer` in `lang`: API messages and field problems made inside it are in that language.
pub(crate) async fn in_language<F: Future<Output = Response>>(lang: Lang, answer: F) -> Response {
    LANG.scope(lang, answer).await
}

/// A refusal: the code decides the status; `text` (with `args`) is what the caller reads in their language;
/// `detail` is the English detail for developers and logs.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub text: ApiText,
    pub args: Vec<(&'static str, String)>,
    pub detail: String,
    pub fields: FieldErrors,
    /// For 429 and 503: how many seconds to wait (`Retry-After`).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> ApiError {
        ApiError {
            code,
            text: code.text(),
            args: Vec::new(),
            detail: detail.into(),
            fields: FieldErrors::default(),
            retry_after: None,
        }
    }

    /// Says something more precise than the code's own text.
    pub fn saying(mut self, text: ApiText, args: &[(&'static str, String)]) -> ApiError {
        self.text = text;
        self.args = args.to_vec();
        self
    }

    /// The message in the request's language.
    pub fn message(&self) -> String {
        self.message_in(request_lang())
    }

    /// The message in `lang`, for a page in that language.
    pub fn message_in(&self, lang: Lang) -> String {
        let args: Vec<(&str, &str)> = self.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
        fill(self.text.text(lang), &args)
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// Too many attempts or requests: try again in `secs` seconds.
    pub fn too_many(detail: impl Into<String>, secs: u64) -> ApiError {
        let secs = secs.max(1);
        ApiError {
            retry_after: Some(secs),
            ..ApiError::new(ErrorCode::RateLimited, detail)
        }
        .saying(ApiText::RateLimited, &[("seconds", secs.to_string())])
    }

    /// The database is away or full: try again in [`UNAVAILABLE_RETRY_SECS`] seconds. Logged as a warning, since
    /// the cause (a restart, a full disk) is the operator's to see, and every request meanwhile says the same.
    pub fn unavailable(e: impl std::fmt::Display) -> ApiError {
        tracing::warn!(error = %e, "database unavailable");
        ApiError {
            retry_after: Some(UNAVAILABLE_RETRY_SECS),
            ..ApiError::new(
                ErrorCode::Unavailable,
                "the database is unavailable; the request was not applied",
            )
        }
        .saying(
            ApiText::Unavailable,
            &[("seconds", UNAVAILABLE_RETRY_SECS.to_string())],
        )
    }

    pub fn invalid(fields: FieldErrors) -> ApiError {
        ApiError {
            detail: format!("the request has invalid fields: {fields}"),
            fields,
            ..ApiError::new(ErrorCode::Invalid, "")
        }
    }

    pub fn field(field: &str, message: impl ToString + AsProblem) -> ApiError {
        let mut f = FieldErrors::default();
        f.push(field, message);
        ApiError::invalid(f)
    }

    pub fn field_as(field: &str, problem: Problem, detail: impl ToString) -> ApiError {
        let mut f = FieldErrors::default();
        f.push_as(field, problem, detail);
        ApiError::invalid(f)
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, what)
    }

    pub fn unauthorized(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, detail)
    }

    pub fn forbidden(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, detail)
    }

    pub fn conflict(detail: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Conflict, detail)
    }

    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "internal error");
        ApiError::new(
            ErrorCode::Internal,
            "the server failed; the request was not applied",
        )
    }
}
impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Conflict(what) => ApiError::conflict(what),
            StoreError::Invalid(msg) => ApiError::new(ErrorCode::Invalid, msg),
            StoreError::Unavailable(e) => ApiError::unavailable(e),
            StoreError::Db(e) => ApiError::internal(e),
            StoreError::Failed(e) => ApiError::internal(e),
            StoreError::Corrupt(e) => ApiError::internal(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        body_rejected(r.status(), r.body_text())
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> ApiError {
        body_rejected(r.status(), r.body_text())
    }
}

/// A body that could not be read: too large, the wrong media type, or not what was expected.
fn body_rejected(status: StatusCode, detail: String) -> ApiError {
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
        _ => ErrorCode::InvalidBody,
    };
    ApiError::new(code, detail)
}

/// Field errors as the caller reads them: the path, the problem's code, its text in the request's language
/// and the English detail.
fn fields(errors: &FieldErrors) -> Vec<serde_json::Value> {
    let lang = request_lang();
    errors
        .0
        .iter()
        .map(|e| json!({"field": e.field, "code": e.code, "message": e.code.text(lang), "detail": e.message}))
        .collect()
}

impl ApiError {
    /// The answer's body, `{error, message, detail, fields}`: the whole answer of a refused request, and the
    /// refusal of one item inside a batch's answer.
    pub fn body(&self) -> serde_json::Value {
        json!({"error": self.code.as_str(), "message": self.message(), "detail": self.detail, "fields": fields(&self.fields)})
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
