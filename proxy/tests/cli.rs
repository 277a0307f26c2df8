//! The command line: config validate/show with located errors, help texts.

mod support;

use std::process::Command;

use support::gateway::{binary, temp_dir};

fn tollgate(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(binary()).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn validate_reports_every_error_with_file_line_col() {
    let dir = temp_dir("cli");
    let file = dir.join("gateway.yaml");
    std::fs::write(
        &file,
        "gateway:\n  shards: 2\n  timeouts: { backend-connect: 5 }\napis:\n  - id: a\n    path: a\n    service-url: http://127.0.0.1:1\n    operations:\n      - { id: x, mehtod: GET, url-template: /x }\n      - { id: y, method: GET, url-template: \"y/{id}\" }\n",
    )
    .unwrap();
    let (ok, _, err) = tollgate(&["config", "validate", file.to_str().unwrap()]);
    assert!(!ok);
    let name = file.display().to_string();
    assert!(
        err.contains(&format!("{name}:3:")),
        "backend-connect located: {err}"
    );
    assert!(err.contains(&format!("{name}:9:")), "mehtod located: {err}");
    assert!(err.contains("method"), "hint names the right key: {err}");
}

#[test]
fn validate_reports_bad_templates_with_location() {
    let dir = temp_dir("cli");
    let file = dir.join("gateway.yaml");
    std::fs::write(
        &file,
        "apis:\n  - id: a\n    path: a\n    service-url: http://127.0.0.1:1\n    operations:\n      - id: y\n        method: GET\n        url-template: \"/y/{id}/{id}\"\n",
    )
    .unwrap();
    let (ok, _, err) = tollgate(&["config", "validate", file.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains(&format!("{}:8:", file.display())), "{err}");
    assert!(err.contains("twice"), "{err}");
}

#[test]
fn validate_and_show_a_good_config() {
    let dir = temp_dir("cli");
    let file = dir.join("gateway.yaml");
    std::fs::write(
        &file,
        "named-values:\n  key: { value: s3cr3t-value, secret: true }\napis:\n  - id: a\n    path: a\n    service-url: http://127.0.0.1:1\n    subscription-required: false\n    operations:\n      - { id: y, method: GET, url-template: /y }\n",
    )
    .unwrap();
    let (ok, out, err) = tollgate(&["config", "validate", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("OK"));
    let (ok, out, err) = tollgate(&["config", "show", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("backend-connect"), "defaults are shown: {out}");
    assert!(!out.contains("s3cr3t-value"), "secret masked: {out}");
}

#[test]
fn help_lists_every_command() {
    let (ok, out, _) = tollgate(&["--help"]);
    assert!(ok);
    for cmd in ["run", "config", "echo"] {
        assert!(out.contains(cmd), "{out}");
    }
    let (ok, out, _) = tollgate(&["run", "--help"]);
    assert!(ok);
    assert!(out.contains("--config"));
}

#[test]
fn every_example_config_validates() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yaml") {
            let (ok, _, err) = tollgate(&["config", "validate", path.to_str().unwrap()]);
            assert!(ok, "{}: {err}", path.display());
            checked += 1;
        }
    }
    assert!(checked >= 3, "examples found: {checked}");
}
