//! Makes test tokens for benchmarks and manual tests (not part of the gateway).
//!
//!   jwt-sign token ALG KEY.pem KID PAYLOAD_JSON   → a compact JWS on stdout
//!   jwt-sign ne KEY.pem                           → the RSA key's `n e` (base64url)
//!   jwt-sign jwk KEY.pem KID                      → the public JWK
//!
//! Build with `cargo build --release -p tollgate-jwt --features sign --example jwt-sign`.

use std::process::ExitCode;

use tollgate_jwt::sign::{sign, SigningKey};
use tollgate_jwt::Alg;

fn key(path: &str) -> Result<SigningKey, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    SigningKey::from_pkcs8_pem(&text).map_err(|e| format!("{path}: {e}"))
}

fn run(args: &[String]) -> Result<String, String> {
    match args {
        [cmd, alg, path, kid, payload] if cmd == "token" => {
            let alg = Alg::parse(alg).ok_or_else(|| format!("unknown alg {alg}"))?;
            let header = serde_json::json!({ "kid": kid }).to_string();
            sign(alg, &key(path)?, &header, payload).map_err(|e| e.to_string())
        }
        [cmd, path] if cmd == "ne" => {
            let jwk = key(path)?.public_jwk();
            match (jwk["n"].as_str(), jwk["e"].as_str()) {
                (Some(n), Some(e)) => Ok(format!("{n} {e}")),
                _ => Err(format!("{path} is not an RSA key")),
            }
        }
        [cmd, path, kid] if cmd == "jwk" => {
            let mut jwk = key(path)?.public_jwk();
            jwk["kid"] = serde_json::json!(kid);
            Ok(jwk.to_string())
        }
        _ => Err(
            "usage: jwt-sign token ALG KEY.pem KID PAYLOAD_JSON | ne KEY.pem | jwk KEY.pem KID"
                .into(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
