//! Loading `gateway.yaml`: read → spanned YAML tree → typed [`Config`] (every error at
//! once) → relative paths resolved → named values read → validated → [`Loaded`].
//!
//! A config with any error is rejected whole. Not for hot reload or compiling policies:
//! those take a [`Loaded`] from here.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use super::de_error::Error;
use super::diagnostics::{ConfigErrors, Diagnostic, Location};
use super::model::{Config, NamedValueSource, SecretSource};
use super::named_values::NamedValue;
use super::node::Node;
use super::recover::deserialize_all;
use super::validate;
use super::yaml;

/// A loaded, validated config. `Debug` masks secrets like [`Loaded::to_masked_yaml`].
#[derive(Clone)]
pub struct Loaded {
    /// The config with defaults filled in and relative paths made relative to the config's
    /// folder (policy file paths included; inline `<…>` policies are left alone).
    pub config: Config,
    /// Every named value, read.
    pub named_values: BTreeMap<String, NamedValue>,
    /// The config file, as given.
    pub origin: PathBuf,
    /// Things that work but not as a reader might expect (e.g. keys not enforced yet).
    pub warnings: Vec<Diagnostic>,
    /// The document, so any key can be located later (e.g. by the policy compiler).
    tree: Node,
}

impl fmt::Debug for Loaded {
    /// Leaves out the document tree: it holds secrets as written.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Loaded")
            .field("config", &self.config)
            .field("named_values", &self.named_values)
            .field("origin", &self.origin)
            .field("warnings", &self.warnings)
            .finish_non_exhaustive()
    }
}

impl Loaded {
    /// Where `key_path` (`apis[1].operations[0].url-template`) is written: the key of a map
    /// entry or the start of a list item. `None` if the file does not spell it out
    /// (defaults) or the path does not exist.
    pub fn locate(&self, key_path: &str) -> Option<Location> {
        self.tree.find(key_path).map(|(key, _)| key.loc)
    }

    /// Where the value of `key_path` is written (for inline text such as policy XML).
    pub fn locate_value(&self, key_path: &str) -> Option<Location> {
        self.tree.find(key_path).map(|(_, value)| value.loc)
    }

    /// A diagnostic about `key_path`, located at its nearest written ancestor.
    pub fn diagnostic(
        &self,
        key_path: &str,
        message: impl Into<String>,
        hint: Option<String>,
    ) -> Diagnostic {
        let loc = locate_nearest(&self.tree, key_path, false);
        Diagnostic::new(self.origin.clone(), loc, key_path, message.into()).with_hint(hint)
    }

    /// The folder relative paths in the config are relative to.
    pub fn base_dir(&self) -> &Path {
        base_dir(&self.origin)
    }
}

/// Reads and loads a config file.
pub fn load_file(path: &Path) -> Result<Loaded, ConfigErrors> {
    match std::fs::read_to_string(path) {
        Ok(text) => load_str(&text, path),
        Err(e) => {
            let message = format!("cannot read the config file: {e}");
            Err(ConfigErrors(vec![Diagnostic::new(
                path.to_owned(),
                Location::default(),
                "",
                message,
            )]))
        }
    }
}

/// Loads config text; `origin` names it in messages and anchors relative paths.
pub fn load_str(text: &str, origin: &Path) -> Result<Loaded, ConfigErrors> {
    let document = yaml::parse(text).map_err(|issues| {
        ConfigErrors(
            issues
                .into_iter()
                .map(|i| {
                    Diagnostic::new(origin.to_owned(), i.loc, &i.key_path, i.message)
                        .with_hint(i.hint)
                })
                .collect(),
        )
    })?;
    let mut errors: Vec<Diagnostic> = document
        .issues
        .into_iter()
        .map(|i| {
            Diagnostic::new(origin.to_owned(), i.loc, &i.key_path, i.message).with_hint(i.hint)
        })
        .collect();
    let tree = document.root;
    let config = match deserialize_all::<Config>(&tree) {
        Ok(config) => Some(config),
        Err(serde_errors) => {
            errors.extend(serde_errors.into_iter().map(|e| to_diagnostic(e, origin)));
            None
        }
    };
    let Some(mut config) = config.filter(|_| errors.is_empty()) else {
        return Err(sorted(errors));
    };
    resolve_paths(&mut config, base_dir(origin));
    let report = validate::check(&config, &tree, origin);
    if !report.errors.is_empty() {
        return Err(sorted(report.errors));
    }
    Ok(Loaded {
        config,
        named_values: report.named_values,
        origin: origin.to_owned(),
        warnings: report.warnings,
        tree,
    })
}

fn sorted(mut errors: Vec<Diagnostic>) -> ConfigErrors {
    errors.sort_by_key(|d| (d.line, d.col));
    ConfigErrors(errors)
}

fn to_diagnostic(e: Error, origin: &Path) -> Diagnostic {
    let (loc, path) = e.at.unwrap_or_default();
    Diagnostic::new(origin.to_owned(), loc, &path, e.message).with_hint(e.hint)
}

pub(crate) fn base_dir(origin: &Path) -> &Path {
    origin.parent().unwrap_or(Path::new(""))
}

/// The location of `key_path`'s key (or value), else of its nearest ancestor in the file.
pub(crate) fn locate_nearest(tree: &Node, key_path: &str, value: bool) -> Location {
    let mut path = key_path;
    loop {
        if let Some((k, v)) = tree.find(path) {
            return if value { v.loc } else { k.loc };
        }
        match path.rfind(['.', '[']) {
            Some(i) => path = &path[..i],
            None => return tree.loc,
        }
    }
}

/// Makes every relative file path relative to the config's folder.
fn resolve_paths(config: &mut Config, base: &Path) {
    let fix = |p: &mut PathBuf| *p = base.join(&*p);
    let fix_policy = |p: &mut String| {
        if !p.trim_start().starts_with('<') {
            *p = base.join(&*p).to_string_lossy().into_owned();
        }
    };
    let fix_secret = |s: &mut SecretSource| {
        if let SecretSource::File(p) = s {
            fix(p);
        }
    };
    if let Some(tls) = &mut config.gateway.tls {
        for c in &mut tls.certificates {
            fix(&mut c.cert);
            fix(&mut c.key);
            c.ocsp.iter_mut().for_each(fix);
        }
        for c in tls.client_certificates.iter_mut() {
            c.ca.iter_mut().for_each(fix);
            c.crl.iter_mut().for_each(fix);
        }
    }
    config
        .gateway
        .admin
        .iter_mut()
        .filter_map(|a| a.token.as_mut())
        .for_each(fix_secret);
    for source in config.named_values.values_mut() {
        if let NamedValueSource::File { file, .. } = source {
            fix(file);
        }
    }
    config.gateway.openid.ca.iter_mut().for_each(fix);
    config
        .certificates
        .values_mut()
        .for_each(|c| fix(&mut c.file));
    for tls in config.backends.values_mut().filter_map(|b| b.tls.as_mut()) {
        [&mut tls.ca, &mut tls.client_cert, &mut tls.client_key]
            .into_iter()
            .flatten()
            .for_each(fix);
    }
    for api in &mut config.apis {
        api.policy.iter_mut().for_each(fix_policy);
        api.openapi.iter_mut().for_each(fix);
        api.operations
            .iter_mut()
            .filter_map(|o| o.policy.as_mut())
            .for_each(fix_policy);
    }
    config
        .products
        .iter_mut()
        .filter_map(|p| p.policy.as_mut())
        .for_each(fix_policy);
    for s in &mut config.subscriptions {
        [&mut s.primary_key, &mut s.secondary_key]
            .into_iter()
            .flatten()
            .for_each(fix_secret);
    }
    config.policies.global.iter_mut().for_each(fix_policy);
    config.policies.fragments.values_mut().for_each(fix_policy);
}
