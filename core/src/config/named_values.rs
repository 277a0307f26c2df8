//! Named values (`{{name}}` in URLs and policies) and secrets (subscription keys, the admin
//! token): where a value comes from, reading it at load, and finding `{{name}}` references.
//!
//! Not for substitution inside policies at request time; that is the policy compiler's job.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

/// What `***` stands for wherever a secret would be shown.
pub const MASK: &str = "***";

/// Where a named value comes from: `{ value: "x" }`, `{ env: NAME }` or `{ file: path }`,
/// each with an optional `secret: true`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawSource")]
pub enum NamedValueSource {
    Value { value: String, secret: bool },
    Env { env: String, secret: bool },
    File { file: PathBuf, secret: bool },
}

/// Where a secret comes from: `{ value: "x" }`, `{ env: NAME }` or `{ file: path }`.
/// Always treated as secret.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "RawSecret")]
pub enum SecretSource {
    Value(String),
    Env(String),
    File(PathBuf),
}

/// A named value read at load.
#[derive(Clone, PartialEq, Eq)]
pub struct NamedValue {
    pub value: String,
    pub secret: bool,
}

impl fmt::Debug for NamedValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = if self.secret { MASK } else { &self.value };
        f.debug_struct("NamedValue")
            .field("value", &shown)
            .field("secret", &self.secret)
            .finish()
    }
}

impl fmt::Debug for NamedValueSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NamedValueSource::Value { value, secret } => {
                let shown = if *secret { MASK } else { value };
                write!(f, "NamedValueSource::Value({shown:?}, secret: {secret})")
            }
            NamedValueSource::Env { env, secret } => {
                write!(f, "NamedValueSource::Env({env:?}, secret: {secret})")
            }
            NamedValueSource::File { file, secret } => {
                write!(f, "NamedValueSource::File({file:?}, secret: {secret})")
            }
        }
    }
}

impl fmt::Debug for SecretSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSource::Value(_) => f.write_str("SecretSource::Value(***)"),
            SecretSource::Env(name) => write!(f, "SecretSource::Env({name:?})"),
            SecretSource::File(path) => write!(f, "SecretSource::File({path:?})"),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSource {
    value: Option<String>,
    env: Option<String>,
    file: Option<PathBuf>,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecret {
    value: Option<String>,
    env: Option<String>,
    file: Option<PathBuf>,
}

const ONE_SOURCE: &str = "give exactly one of `value`, `env` or `file`";

impl TryFrom<RawSource> for NamedValueSource {
    type Error = String;

    fn try_from(raw: RawSource) -> Result<Self, String> {
        let secret = raw.secret;
        match (raw.value, raw.env, raw.file) {
            (Some(value), None, None) => Ok(NamedValueSource::Value { value, secret }),
            (None, Some(env), None) => Ok(NamedValueSource::Env { env, secret }),
            (None, None, Some(file)) => Ok(NamedValueSource::File { file, secret }),
            _ => Err(ONE_SOURCE.to_owned()),
        }
    }
}

impl TryFrom<RawSecret> for SecretSource {
    type Error = String;

    fn try_from(raw: RawSecret) -> Result<Self, String> {
        match (raw.value, raw.env, raw.file) {
            (Some(value), None, None) => Ok(SecretSource::Value(value)),
            (None, Some(env), None) => Ok(SecretSource::Env(env)),
            (None, None, Some(file)) => Ok(SecretSource::File(file)),
            _ => Err(ONE_SOURCE.to_owned()),
        }
    }
}

impl NamedValueSource {
    pub fn is_secret(&self) -> bool {
        match self {
            NamedValueSource::Value { secret, .. }
            | NamedValueSource::Env { secret, .. }
            | NamedValueSource::File { secret, .. } => *secret,
        }
    }

    /// Reads the value; relative files are relative to `base_dir` (the config's folder).
    /// `Err` names the missing variable or the unreadable file.
    pub fn resolve(&self, base_dir: &Path) -> Result<NamedValue, String> {
        let value = match self {
            NamedValueSource::Value { value, .. } => value.clone(),
            NamedValueSource::Env { env, .. } => read_env(env)?,
            NamedValueSource::File { file, .. } => read_file(&base_dir.join(file))?,
        };
        Ok(NamedValue {
            value,
            secret: self.is_secret(),
        })
    }
}

impl SecretSource {
    /// Reads the secret; relative files are relative to `base_dir` (the config's folder).
    pub fn resolve(&self, base_dir: &Path) -> Result<String, String> {
        match self {
            SecretSource::Value(value) => Ok(value.clone()),
            SecretSource::Env(env) => read_env(env),
            SecretSource::File(file) => read_file(&base_dir.join(file)),
        }
    }
}

fn read_env(name: &str) -> Result<String, String> {
    match std::env::var(name) {
        Ok(value) => Ok(value),
        Err(std::env::VarError::NotPresent) => {
            Err(format!("environment variable `{name}` is not set"))
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable `{name}` is not valid UTF-8"))
        }
    }
}

/// Reads a whole file; one trailing newline (as editors and `echo` add) is dropped.
fn read_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read file `{}`: {e}", path.display()))?;
    let trimmed = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t));
    Ok(trimmed.map_or(text.clone(), str::to_owned))
}

impl Serialize for NamedValueSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(2))?;
        match self {
            NamedValueSource::Value { value, secret } => {
                map.serialize_entry("value", if *secret { MASK } else { value })?;
            }
            NamedValueSource::Env { env, .. } => map.serialize_entry("env", env)?,
            NamedValueSource::File { file, .. } => map.serialize_entry("file", file)?,
        }
        map.serialize_entry("secret", &self.is_secret())?;
        map.end()
    }
}

impl Serialize for SecretSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(1))?;
        match self {
            SecretSource::Value(_) => map.serialize_entry("value", MASK)?,
            SecretSource::Env(env) => map.serialize_entry("env", env)?,
            SecretSource::File(file) => map.serialize_entry("file", file)?,
        }
        map.end()
    }
}

/// Whether `name` is a valid named-value name: letters, digits, `-`, `_`, `.`.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The names referenced as `{{name}}` in `text`, in order (inner spaces trimmed).
pub fn references(text: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let name = after[..end].trim();
        // Only a valid name is a reference: C# in policies writes `{{` and `}}` as
        // escaped braces (`$"{{\"a\":1}}"`), which are not named values.
        if is_valid_name(name) {
            names.push(name);
            rest = &after[end + 2..];
        } else {
            rest = &rest[start + 2..];
        }
    }
    names
}

/// `text` with every `{{name}}` replaced by its value; `None` if a name is undefined.
pub fn substitute(text: &str, values: &BTreeMap<String, NamedValue>) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        out.push_str(&rest[..start]);
        out.push_str(&values.get(after[..end].trim())?.value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_substitutes_references() {
        assert_eq!(
            references("http://{{host}}:{{ port }}/x{{"),
            vec!["host", "port"]
        );
        let mut values = BTreeMap::new();
        values.insert(
            "host".to_owned(),
            NamedValue {
                value: "h".into(),
                secret: false,
            },
        );
        assert_eq!(
            substitute("http://{{host}}/a", &values).as_deref(),
            Some("http://h/a")
        );
        assert_eq!(substitute("{{nope}}", &values), None);
    }

    #[test]
    fn debug_masks_secrets() {
        let v = NamedValue {
            value: "hunter2".into(),
            secret: true,
        };
        assert!(!format!("{v:?}").contains("hunter2"));
        assert!(!format!("{:?}", SecretSource::Value("hunter2".into())).contains("hunter2"));
    }
}
