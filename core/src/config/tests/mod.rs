//! Loader tests: whole files in, `Loaded` or diagnostics out. Split by topic: `load.rs`
//! (reading, defaults), `errors.rs` (structural errors), `rules.rs` (validation),
//! `values.rs` (named values, secrets, show), `docs/` (docs/configuration.md against
//! the model).

mod docs;
mod errors;
mod load;
mod rules;
mod values;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{load_str, ConfigErrors, Diagnostic, Loaded};

pub(super) fn load(yaml: &str) -> Result<Loaded, ConfigErrors> {
    load_str(yaml, Path::new("gateway.yaml"))
}

pub(super) fn ok(yaml: &str) -> Loaded {
    load(yaml).unwrap_or_else(|e| panic!("expected the config to load, got:\n{e}"))
}

pub(super) fn errors(yaml: &str) -> Vec<Diagnostic> {
    match load(yaml) {
        Ok(_) => panic!("expected errors, the config loaded:\n{yaml}"),
        Err(e) => e.0,
    }
}

/// The one diagnostic at `key_path` whose message contains `needle`.
pub(super) fn find<'a>(
    diagnostics: &'a [Diagnostic],
    key_path: &str,
    needle: &str,
) -> &'a Diagnostic {
    diagnostics
        .iter()
        .find(|d| d.key_path == key_path && d.message.contains(needle))
        .unwrap_or_else(|| {
            panic!(
                "no `{needle}` at `{key_path}` in:\n{}",
                ConfigErrors(diagnostics.to_vec())
            )
        })
}

/// A fresh folder under the system temp dir, removed on drop.
pub(super) struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tollgate-config-{}-{name}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(&path, text).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
