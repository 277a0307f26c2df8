//! The error type of the node-tree deserializer: what went wrong, a hint, and (once known)
//! the location and key path of the node it went wrong at.

use std::fmt;

use serde::de;

use super::diagnostics::{closest, suggest, Location};

/// Separates a message from its hint inside `de::Error::custom` text, so `Deserialize`
/// impls (durations, sizes) can carry a hint through serde's generic error API.
pub const HINT_SEPARATOR: &str = "\nhint: ";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// A key the target struct does not have; the path names the key. Holds the known
    /// key it is closest to, if any (a typo of it).
    UnknownKey(Option<&'static str>),
    /// A required key is absent; the path names the map that lacks it.
    MissingField(&'static str),
    /// Anything else: wrong type, bad value.
    Invalid,
}

#[derive(Debug, Clone)]
pub struct Error {
    pub kind: ErrorKind,
    pub message: String,
    pub hint: Option<String>,
    /// Where: filled in by the innermost node that saw the error.
    pub at: Option<(Location, String)>,
}

impl Error {
    pub fn invalid(message: String, hint: Option<String>) -> Self {
        Error {
            kind: ErrorKind::Invalid,
            message,
            hint,
            at: None,
        }
    }

    /// The key path the error was located at (empty for the root or when unlocated).
    pub fn path(&self) -> &str {
        self.at.as_ref().map_or("", |(_, p)| p.as_str())
    }

    /// Records where the error happened unless a deeper node already did.
    pub fn locate(mut self, loc: Location, path: &str) -> Self {
        if self.at.is_none() {
            self.at = Some((loc, path.to_owned()));
        }
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

impl de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        let text = msg.to_string();
        match text.split_once(HINT_SEPARATOR) {
            Some((message, hint)) => Error::invalid(message.to_owned(), Some(hint.to_owned())),
            None => Error::invalid(text, None),
        }
    }

    fn invalid_type(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::invalid(format!("expected {exp}, found {unexp}"), None)
    }

    fn invalid_value(unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        Error::invalid(format!("invalid value {unexp}: expected {exp}"), None)
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let hint = suggest(variant, expected.iter().copied(), "allowed values");
        Error::invalid(format!("unknown value `{variant}`"), hint)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let hint = if expected.is_empty() {
            Some("no keys are allowed here".to_owned())
        } else {
            suggest(field, expected.iter().copied(), "allowed keys")
        };
        let kind = ErrorKind::UnknownKey(closest(field, expected.iter().copied()));
        Error {
            kind,
            message: format!("unknown key `{field}`"),
            hint,
            at: None,
        }
    }

    fn missing_field(field: &'static str) -> Self {
        Error {
            kind: ErrorKind::MissingField(field),
            message: format!("missing required key `{field}`"),
            hint: None,
            at: None,
        }
    }
}
