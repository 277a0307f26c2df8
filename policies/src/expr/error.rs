//! Compile-time (`ExprError`, with a byte offset into the expression source) and runtime
//! (`EvalError`, which the VM maps to APIM's `ExpressionValueEvaluationFailure`) errors.

use std::fmt;

/// A load-time error: the expression is malformed, uses something outside the supported
/// C# subset, or does not type-check. `offset` is a byte offset into the source passed to
/// [`compile`](super::compile); the caller maps it to file:line:col.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub offset: usize,
    pub message: String,
    pub hint: Option<String>,
}

impl ExprError {
    pub(crate) fn new(offset: usize, message: impl Into<String>) -> Self {
        ExprError {
            offset,
            message: message.into(),
            hint: None,
        }
    }

    pub(crate) fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {}: {}", self.offset, self.message)?;
        if let Some(h) = &self.hint {
            write!(f, " (hint: {h})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ExprError {}

/// A runtime failure (null dereference, parse or cast failure, division by zero, index
/// out of range, ...). Only built on the failure path, so the `String` is not a
/// common-path allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub message: String,
}

impl EvalError {
    pub fn new(message: impl Into<String>) -> Self {
        EvalError {
            message: message.into(),
        }
    }

    pub(crate) fn null_ref() -> Self {
        EvalError::new("Object reference not set to an instance of an object.")
    }

    pub(crate) fn format() -> Self {
        EvalError::new("Input string was not in a correct format.")
    }

    pub(crate) fn key_missing(key: &str) -> Self {
        EvalError::new(format!(
            "The given key '{key}' was not present in the dictionary."
        ))
    }

    pub(crate) fn index_range() -> Self {
        EvalError::new(
            "Index was out of range. Must be non-negative and less than the size of the collection.",
        )
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

pub(crate) type EResult<T> = Result<T, EvalError>;
