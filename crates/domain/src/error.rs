//! Field-level validation errors, shared by every parser so that an API or import can say what was wrong and where.

use crate::catalogue::Problem;
use serde::Serialize;

/// One rejected field: `field` is a path such as `people[0].citizen_id`, `code` the kind of problem, which
/// pages show in the reader's language, and `message` the detail for developers and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: Problem,
    pub message: String,
}

/// The kind of problem a parse error is, for the people who read it; plain text errors are just invalid.
pub trait AsProblem {
    fn problem(&self) -> Problem {
        Problem::Invalid
    }
}

impl AsProblem for String {}
impl AsProblem for &str {}

/// All the problems found in one input, collected rather than stopping at the first.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn push(&mut self, field: impl Into<String>, message: impl ToString + AsProblem) {
        let code = message.problem();
        self.push_as(field, code, message);
    }

    pub fn push_as(&mut self, field: impl Into<String>, code: Problem, message: impl ToString) {
        self.0.push(FieldError {
            field: field.into(),
            code,
            message: message.to_string(),
        });
    }

    /// Records the error of `result` under `field` and hands back its value, if any.
    pub fn check<T, E: ToString + AsProblem>(
        &mut self,
        field: impl Into<String>,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|e| self.push(field, e)).ok()
    }

    /// Like [`FieldErrors::check`], naming the kind of problem an error of `result` is.
    pub fn check_as<T, E: ToString>(
        &mut self,
        field: impl Into<String>,
        code: Problem,
        result: Result<T, E>,
    ) -> Option<T> {
        result.map_err(|e| self.push_as(field, code, e)).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

impl std::fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for FieldErrors {}
