//! Compiling the policies of `gateway.yaml`: one program per (API, operation), and one
//! per (product, API, operation) for products with a policy of their own.
//!
//! Documents are loaded once (global, fragments, each product, each API, each
//! operation), then merged and compiled per operation. Operations without a policy of their own share their
//! API's program; an API where nothing but the default `forward-request` runs gets no
//! program at all, so its requests take the zero-copy fast path.

use std::collections::BTreeMap;
use std::sync::Arc;

use tollgate_core::config::Loaded;
use tollgate_policies::build::{build_program_with, load_document, load_fragment, CompileOptions};
use tollgate_policies::program::Program;
use tollgate_policies::xml::{Document, Effective, Fragment, Origin, PolicyError, Scopes};

/// Compiled programs: `None` means pass through untouched.
#[derive(Debug, Default)]
pub struct Programs {
    /// `operations[api][operation]`.
    pub operations: Vec<Vec<Option<Arc<Program>>>>,
    /// Per API, its program without an operation scope: what runs for a CORS preflight
    /// (an OPTIONS request no operation matches).
    pub apis: Vec<Option<Arc<Program>>>,
    /// `products[product][api]`: the programs of a product context, for products with a
    /// policy and APIs they hold; `None` means the context adds nothing (use the above).
    pub products: Vec<Vec<Option<ProductPrograms>>>,
}

/// One API's programs in one product's context.
#[derive(Debug, Default)]
pub struct ProductPrograms {
    /// Per operation; `None` is the fast path.
    pub operations: Vec<Option<Arc<Program>>>,
}

impl Programs {
    /// Every compiled program (one `Arc` may appear more than once).
    pub fn all(&self) -> impl Iterator<Item = &Program> {
        let products = self
            .products
            .iter()
            .flatten()
            .flatten()
            .flat_map(|p| p.operations.iter());
        self.apis
            .iter()
            .chain(self.operations.iter().flatten())
            .chain(products)
            .flatten()
            .map(|p| &**p)
    }

    /// The program of an operation in an optional product context.
    pub fn select(&self, product: Option<u32>, api: u32, op: u32) -> Option<&Arc<Program>> {
        let in_product =
            product.and_then(|p| self.products.get(p as usize)?.get(api as usize)?.as_ref());
        match in_product {
            Some(pp) => pp.operations.get(op as usize)?.as_ref(),
            None => self
                .operations
                .get(api as usize)?
                .get(op as usize)?
                .as_ref(),
        }
    }
}

/// Every policy document of a configuration, loaded once, and what compiling them needs.
pub struct Sources {
    options: CompileOptions,
    global: Option<Document>,
    /// Per product, its document.
    products: Vec<Option<Document>>,
    /// Per API: its document and its operations' documents.
    apis: Vec<(Option<Document>, Vec<Option<Document>>)>,
    fragments: BTreeMap<String, Fragment>,
}

pub fn load_sources(loaded: &Loaded) -> Result<Sources, Vec<PolicyError>> {
    let config = &loaded.config;
    let mut errors = Vec::new();
    // `owner`: the document's name, which per-subscription counters are keyed by.
    let mut load = |key_path: &str, owner: String, text: &str| -> Option<Document> {
        let (text, origin) = source(loaded, key_path, text, &mut errors)?;
        match load_document(&text, &origin, &loaded.named_values) {
            Ok(mut d) => {
                d.owner = owner;
                Some(d)
            }
            Err(e) => {
                errors.extend(e);
                None
            }
        }
    };
    let global = config
        .policies
        .global
        .as_deref()
        .and_then(|t| load("policies.global", "global".into(), t));
    let apis = config
        .apis
        .iter()
        .enumerate()
        .map(|(i, api)| {
            let doc = api.policy.as_deref().and_then(|t| {
                load(
                    &format!("apis[{i}].policy"),
                    format!("api/{}", part(&api.id)),
                    t,
                )
            });
            let ops = api
                .operations
                .iter()
                .enumerate()
                .map(|(j, op)| {
                    op.policy.as_deref().and_then(|t| {
                        let owner = format!("operation/{}/{}", part(&api.id), part(&op.id));
                        load(&format!("apis[{i}].operations[{j}].policy"), owner, t)
                    })
                })
                .collect();
            (doc, ops)
        })
        .collect();
    let products = config
        .products
        .iter()
        .enumerate()
        .map(|(i, p)| {
            p.policy.as_deref().and_then(|t| {
                load(
                    &format!("products[{i}].policy"),
                    format!("product/{}", part(&p.id)),
                    t,
                )
            })
        })
        .collect();
    let mut fragments = BTreeMap::new();
    for (id, text) in &config.policies.fragments {
        let key = format!("policies.fragments.{id}");
        if let Some((text, origin)) = source(loaded, &key, text, &mut errors) {
            match load_fragment(id, &text, &origin, &loaded.named_values) {
                Ok(f) => {
                    fragments.insert(id.clone(), f);
                }
                Err(e) => errors.extend(e),
            }
        }
    }
    let (certificates, certificate_thumbprints) = certificates(loaded, &mut errors);
    let options = CompileOptions {
        certificates,
        certificate_thumbprints,
    };
    if errors.is_empty() {
        Ok(Sources {
            options,
            global,
            products,
            apis,
            fragments,
        })
    } else {
        Err(errors)
    }
}

pub fn compile(loaded: &Loaded) -> Result<Programs, Vec<PolicyError>> {
    let src = load_sources(loaded)?;
    let mut errors = Vec::new();
    let mut programs = Programs::default();
    for (api_doc, op_docs) in &src.apis {
        let api_program = build(
            &src.options,
            &src.global,
            None,
            api_doc.as_ref(),
            None,
            &src.fragments,
            &mut errors,
        );
        let mut ops = Vec::with_capacity(op_docs.len());
        for op_doc in op_docs {
            let program = match op_doc {
                Some(op) => build(
                    &src.options,
                    &src.global,
                    None,
                    api_doc.as_ref(),
                    Some(op),
                    &src.fragments,
                    &mut errors,
                ),
                None => api_program.clone(),
            };
            ops.push(program);
        }
        programs.operations.push(ops);
        programs.apis.push(api_program);
    }
    for (p, product) in loaded.config.products.iter().enumerate() {
        let mut per_api: Vec<Option<ProductPrograms>> = (0..src.apis.len()).map(|_| None).collect();
        let Some(product_doc) = src.products[p].as_ref() else {
            programs.products.push(per_api);
            continue;
        };
        for api_id in &product.apis {
            let Some(a) = loaded.config.apis.iter().position(|x| &x.id == api_id) else {
                continue;
            };
            let (api_doc, op_docs) = &src.apis[a];
            // Operations without a policy of their own share the API-level program.
            let mut shared: Option<Option<Arc<Program>>> = None;
            let operations = op_docs
                .iter()
                .map(|op| match op {
                    Some(op) => build(
                        &src.options,
                        &src.global,
                        Some(product_doc),
                        api_doc.as_ref(),
                        Some(op),
                        &src.fragments,
                        &mut errors,
                    ),
                    None => shared
                        .get_or_insert_with(|| {
                            build(
                                &src.options,
                                &src.global,
                                Some(product_doc),
                                api_doc.as_ref(),
                                None,
                                &src.fragments,
                                &mut errors,
                            )
                        })
                        .clone(),
                })
                .collect();
            per_api[a] = Some(ProductPrograms { operations });
        }
        programs.products.push(per_api);
    }
    let emits = programs.all().any(|p| {
        p.insns
            .iter()
            .any(|i| matches!(i, tollgate_policies::program::Insn::EmitMetric(_)))
    });
    if emits {
        crate::warn!("emit-metric: metrics are computed per request but not exported yet (metrics land with the observability issue)");
    }
    if errors.is_empty() {
        Ok(programs)
    } else {
        Err(errors)
    }
}

/// The effective policy and compiled program of one API (and operation), for
/// `tollgate policy explain`.
pub fn explain(
    loaded: &Loaded,
    product: Option<usize>,
    api: usize,
    operation: Option<usize>,
) -> Result<(Effective, Program), Vec<PolicyError>> {
    let src = load_sources(loaded)?;
    let (api_doc, op_docs) = &src.apis[api];
    let op_doc = operation
        .and_then(|o| op_docs.get(o))
        .and_then(Option::as_ref);
    let scopes = Scopes {
        global: src.global.as_ref(),
        product: product
            .and_then(|p| src.products.get(p))
            .and_then(Option::as_ref),
        api: api_doc.as_ref(),
        operation: op_doc,
        fragments: &src.fragments,
    };
    build_program_with(&scopes, &src.options).map(|(p, e)| (e, p))
}

fn build(
    options: &CompileOptions,
    global: &Option<Document>,
    product: Option<&Document>,
    api: Option<&Document>,
    operation: Option<&Document>,
    fragments: &BTreeMap<String, Fragment>,
    errors: &mut Vec<PolicyError>,
) -> Option<Arc<Program>> {
    if global.is_none() && product.is_none() && api.is_none() && operation.is_none() {
        return None;
    }
    let scopes = Scopes {
        global: global.as_ref(),
        product,
        api,
        operation,
        fragments,
    };
    match build_program_with(&scopes, options) {
        Ok((program, _)) if program.is_passthrough() => None,
        Ok((program, _)) => Some(Arc::new(program)),
        Err(e) => {
            // The same document error shows up once per operation sharing it: keep one.
            for err in e {
                if !errors.iter().any(|x| x.to_string() == err.to_string()) {
                    errors.push(err);
                }
            }
            None
        }
    }
}

/// The text and origin of a policy value: inline XML (positions inside gateway.yaml) or
/// a file (already resolved against the config's folder by the loader).
/// An id as one part of a document's name: `/` (the separator) and `%` escaped, so
/// API `a/b` with operation `c` and API `a` with operation `b/c` name different
/// documents.
fn part(id: &str) -> String {
    id.replace('%', "%25").replace('/', "%2F")
}

fn source(
    loaded: &Loaded,
    key_path: &str,
    value: &str,
    errors: &mut Vec<PolicyError>,
) -> Option<(String, Origin)> {
    if value.trim_start().starts_with('<') {
        let file = loaded.origin.display().to_string();
        let loc = loaded.locate_value(key_path);
        let (line, col) = loc.map_or((1, 1), |l| (l.line as u32, l.col as u32));
        return Some((
            value.to_string(),
            Origin::inline(file, line, col, col.saturating_sub(1)),
        ));
    }
    match std::fs::read_to_string(value) {
        Ok(text) => Some((text, Origin::file(value))),
        Err(e) => {
            let loc = loaded.locate(key_path);
            errors.push(PolicyError {
                file: loaded.origin.display().to_string(),
                line: loc.map_or(0, |l| l.line as u32),
                col: loc.map_or(0, |l| l.col as u32),
                policy: None,
                message: format!("{key_path}: cannot read policy file `{value}`: {e}"),
                hint: None,
            });
            None
        }
    }
}

/// `certificates:` read once each: verification keys (validate-jwt `certificate-id`)
/// and, for X.509 certificates, SHA-1 thumbprints (validate-client-certificate
/// `issuer-certificate-id`); errors name the file.
fn certificates(
    loaded: &Loaded,
    errors: &mut Vec<PolicyError>,
) -> (
    BTreeMap<String, tollgate_jwt::Key>,
    BTreeMap<String, String>,
) {
    use rustls::pki_types::pem::PemObject;
    let mut out = BTreeMap::new();
    let mut thumbprints = BTreeMap::new();
    for (id, cert) in &loaded.config.certificates {
        let key_path = format!("certificates.{id}.file");
        let loc = loaded.locate(&key_path);
        let read = std::fs::read_to_string(&cert.file)
            .map_err(|e| format!("cannot read `{}`: {e}", cert.file.display()))
            .and_then(|pem| {
                let info = rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
                    .ok()
                    .and_then(|der| crate::tls::x509::CertInfo::parse(&der).ok());
                if let Some(info) = info {
                    thumbprints.insert(id.clone(), info.thumbprint);
                }
                tollgate_jwt::Key::from_pem(&pem).map_err(|e| {
                    format!("`{}` holds no usable public key: {e}", cert.file.display())
                })
            });
        match read {
            Ok(key) => {
                out.insert(id.clone(), key);
            }
            Err(message) => errors.push(PolicyError {
                file: loaded.origin.display().to_string(),
                line: loc.map_or(0, |l| l.line as u32),
                col: loc.map_or(0, |l| l.col as u32),
                policy: None,
                message: format!("{key_path}: {message}"),
                hint: Some(
                    "a PEM certificate (BEGIN CERTIFICATE) or public key (BEGIN PUBLIC KEY)".into(),
                ),
            }),
        }
    }
    (out, thumbprints)
}
