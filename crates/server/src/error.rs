//! One error type for the API, mapped to `{error, message, fields}` with a 4xx status for anything a user
//! can cause; only failures of the system itself are 500, and those are logged, not shown.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kiemdich_domain::FieldErrors;
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
            ErrorCode::NoSigningKey => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub fields: FieldErrors,
    /// For 429: how many seconds to wait (`Retry-After`).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            message: message.into(),
            fields: FieldErrors::default(),
            retry_after: None,
        }
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// Too many attempts or requests: try again in `secs` seconds.
    pub fn too_many(message: impl Into<String>, secs: u64) -> ApiError {
        ApiError {
            retry_after: Some(secs.max(1)),
            ..ApiError::new(ErrorCode::RateLimited, message)
        }
    }

    pub fn invalid(fields: FieldErrors) -> ApiError {
        ApiError {
            message: format!("the request has invalid fields: {fields}"),
            fields,
            ..ApiError::new(ErrorCode::Invalid, "")
        }
    }

    pub fn field(field: &str, message: impl ToString) -> ApiError {
        let mut f = FieldErrors::default();
        f.push(field, message);
        ApiError::invalid(f)
    }

    pub fn not_found(what: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::NotFound, what)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorCode::Conflict, message)
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
            StoreError::Db(e) => ApiError::internal(e),
            StoreError::Failed(e) => ApiError::internal(e),
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> ApiError {
        let code = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::UnsupportedMediaType,
            _ => ErrorCode::InvalidBody,
        };
        ApiError::new(code, r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status(),
            Json(json!({"error": self.code.as_str(), "message": self.message, "fields": self.fields})),
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        response
    }
}
