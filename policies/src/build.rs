//! From policy text to a runnable [`Program`]: the steps callers chain together.

use std::collections::BTreeMap;

use tollgate_core::config::NamedValue;

use crate::program::Program;
use crate::xml::{self, Document, Effective, Fragment, Origin, PolicyError, Scopes};

/// Parses, validates and substitutes `{{named values}}` in one policy document.
pub fn load_document(
    text: &str,
    origin: &Origin,
    named_values: &BTreeMap<String, NamedValue>,
) -> Result<Document, Vec<PolicyError>> {
    let mut doc = xml::parse_document(text, origin)?;
    xml::substitute_named_values(&mut doc, named_values)?;
    Ok(doc)
}

/// Parses, validates and substitutes `{{named values}}` in one fragment.
pub fn load_fragment(
    id: &str,
    text: &str,
    origin: &Origin,
    named_values: &BTreeMap<String, NamedValue>,
) -> Result<Fragment, Vec<PolicyError>> {
    let mut f = xml::parse_fragment(id, text, origin)?;
    xml::substitute_fragment_named_values(&mut f, named_values)?;
    Ok(f)
}

/// Merges the scopes of one (operation, product context) and compiles the result.
pub fn build_program(scopes: &Scopes<'_>) -> Result<(Program, Effective), Vec<PolicyError>> {
    build_program_with(scopes, &CompileOptions::default())
}

/// What compilation needs from the configuration besides the policy documents.
#[derive(Clone, Debug, Default)]
pub struct CompileOptions {
    /// `certificates:` by id, as verification keys (validate-jwt `certificate-id`).
    pub certificates: BTreeMap<String, tollgate_jwt::Key>,
    /// SHA-1 thumbprints (upper-case hex) of the `certificates:` that are X.509
    /// certificates (validate-client-certificate `issuer-certificate-id`).
    pub certificate_thumbprints: BTreeMap<String, String>,
}

/// [`build_program`] with the configuration's certificates.
pub fn build_program_with(
    scopes: &Scopes<'_>,
    options: &CompileOptions,
) -> Result<(Program, Effective), Vec<PolicyError>> {
    let effective = xml::merge(scopes)?;
    let program = crate::compile::compile_with(&effective, options)?;
    Ok((program, effective))
}
