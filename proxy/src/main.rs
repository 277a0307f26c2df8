//! The `tollgate` binary: parses the command line and runs the chosen command.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use tollgate::cli::{Cli, Command, ConfigCommand, PolicyCommand, RunArgs};
use tollgate::runtime::{self, DriverChoice};
use tollgate::snapshot::Snapshot;
use tollgate_core::config::{self, Loaded};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The configuration served by `tollgate run` without `--config`.
const EMBEDDED_DEFAULT: &str = include_str!("../../examples/default.yaml");
/// Where the embedded default expects its echo backend.
const EMBEDDED_ECHO: &str = "127.0.0.1:8089";

fn main() -> ExitCode {
    if let Ok(level) = std::env::var("TOLLGATE_LOG") {
        if let Some(l) = tollgate::log::Level::parse(&level) {
            tollgate::log::set_level(l);
        }
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => run(args),
        Command::Config(ConfigCommand::Validate { file }) => match load(&file) {
            Ok((_, loaded)) => {
                for w in &loaded.warnings {
                    eprintln!("warning: {w}");
                }
                println!("{}: OK", file.display());
                ExitCode::SUCCESS
            }
            Err(text) => {
                eprint!("{text}");
                ExitCode::FAILURE
            }
        },
        Command::Config(ConfigCommand::Show { file }) => match load(&file) {
            Ok((_, loaded)) => {
                print!("{}", loaded.to_masked_yaml());
                ExitCode::SUCCESS
            }
            Err(text) => {
                eprint!("{text}");
                ExitCode::FAILURE
            }
        },
        Command::Policy(PolicyCommand::Explain {
            file,
            api,
            operation,
            product,
        }) => explain(&file, &api, operation.as_deref(), product.as_deref()),
        Command::Echo(args) => match tollgate::echo::bind(args.listen) {
            Ok(l) => {
                eprintln!("echo backend listening on http://{}", args.listen);
                match tollgate::echo::serve_blocking(l) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("error: echo backend: {e}");
                        ExitCode::FAILURE
                    }
                }
            }
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                ExitCode::FAILURE
            }
        },
    }
}

fn explain(file: &Path, api: &str, operation: Option<&str>, product: Option<&str>) -> ExitCode {
    let loaded = match config::load_file(file) {
        Ok(l) => l,
        Err(e) => {
            eprint!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let Some(ai) = loaded.config.apis.iter().position(|a| a.id == api) else {
        let ids: Vec<&str> = loaded.config.apis.iter().map(|a| a.id.as_str()).collect();
        eprintln!("error: no API `{api}`; APIs: {}", ids.join(", "));
        return ExitCode::FAILURE;
    };
    let oi = match operation {
        None => None,
        Some(op) => match loaded.config.apis[ai]
            .operations
            .iter()
            .position(|o| o.id == op)
        {
            Some(i) => Some(i),
            None => {
                eprintln!("error: API `{api}` has no operation `{op}`");
                return ExitCode::FAILURE;
            }
        },
    };
    let pi = match product {
        None => None,
        Some(p) => match loaded.config.products.iter().position(|x| x.id == p) {
            Some(i) if loaded.config.products[i].apis.iter().any(|a| a == api) => Some(i),
            Some(_) => {
                eprintln!("error: product `{p}` does not hold API `{api}`");
                return ExitCode::FAILURE;
            }
            None => {
                eprintln!("error: no product `{p}`");
                return ExitCode::FAILURE;
            }
        },
    };
    match tollgate::snapshot::policies::explain(&loaded, pi, ai, oi) {
        Ok((effective, program)) => {
            println!(
                "<!-- effective policy of api {api}{}{} -->",
                operation
                    .map(|o| format!(", operation {o}"))
                    .unwrap_or_default(),
                product
                    .map(|p| format!(", product {p}"))
                    .unwrap_or_default()
            );
            println!(
                "{}",
                tollgate_policies::xml::print_effective(&effective, true)
            );
            println!("<!-- compiled program -->");
            print!("{program}");
            ExitCode::SUCCESS
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{e}");
            }
            ExitCode::FAILURE
        }
    }
}

/// Loads and compiles a config file; on failure returns the full error report.
fn load(file: &Path) -> Result<(Snapshot, Loaded), String> {
    let loaded = config::load_file(file).map_err(|e| format!("{e}"))?;
    compile(loaded)
}

fn compile(loaded: Loaded) -> Result<(Snapshot, Loaded), String> {
    match Snapshot::build(&loaded) {
        Ok(s) => Ok((s, loaded)),
        Err(e) => Err(e.report(&loaded)),
    }
}

fn run(args: RunArgs) -> ExitCode {
    // Installed first: a SIGHUP (a reload right after a deploy) or SIGTERM that arrives
    // while the gateway starts is handled once it runs, instead of killing it.
    let signals = {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        signal_hook::iterator::Signals::new([SIGTERM, SIGINT, SIGHUP])
    };
    let choice = match DriverChoice::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let embedded = args.config.is_none();
    let loaded = match &args.config {
        Some(file) => load(file),
        None => config::load_str(EMBEDDED_DEFAULT, Path::new("<embedded default>"))
            .map_err(|e| format!("{e}"))
            .and_then(compile),
    };
    let (snapshot, loaded) = match loaded {
        Ok(x) => x,
        Err(text) => {
            eprint!("{text}");
            return ExitCode::FAILURE;
        }
    };
    let baseline = tollgate::reload::baseline(&loaded);
    if std::env::var("TOLLGATE_LOG").is_err() {
        if let Some(logging) = &loaded.config.logging {
            use tollgate::log::Level;
            tollgate::log::set_level(match logging.level {
                config::LogLevel::Error => Level::Error,
                config::LogLevel::Warn => Level::Warn,
                config::LogLevel::Info => Level::Info,
                config::LogLevel::Debug => Level::Debug,
            });
        }
    }
    for w in &loaded.warnings {
        tollgate::warn!("{w}");
    }
    if embedded {
        let addr = EMBEDDED_ECHO.parse().expect("valid literal address");
        match tollgate::echo::bind(addr) {
            Ok(l) => {
                std::thread::Builder::new()
                    .name("tollgate-echo".into())
                    .spawn(move || {
                        if let Err(e) = tollgate::echo::serve_blocking(l) {
                            tollgate::error!("echo backend stopped: {e}");
                        }
                    })
                    .ok();
            }
            Err(e) => {
                eprintln!(
                    "error: the embedded demo needs 127.0.0.1:8089 for its echo backend: {e}"
                );
                return ExitCode::FAILURE;
            }
        }
    }
    let g = &loaded.config.gateway;
    let listen = runtime::Listen {
        http: args.listen.or(g.listen.http),
        https: args.listen_https.or(g.listen.https),
    };
    if listen.http.is_none() && listen.https.is_none() {
        eprintln!("error: no listener: set gateway.listen.http or https, or give --listen");
        return ExitCode::FAILURE;
    }
    if listen.https.is_some() && snapshot.tls.is_none() {
        eprintln!("error: --listen-https needs certificates in gateway.tls.certificates");
        return ExitCode::FAILURE;
    }
    let shards = args.shards.unwrap_or(match g.shards {
        config::Shards::Auto => 0,
        config::Shards::Count(n) => n.get(),
    });
    let snapshot = Arc::new(snapshot);
    let gateway = match runtime::start_listening(snapshot.clone(), listen, shards, choice) {
        Ok(g) => g,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(a) = gateway.http_addr {
        tollgate::info!("listening on http://{a} with {} shards", gateway.shards);
    }
    if let Some(a) = gateway.https_addr {
        tollgate::info!("listening on https://{a} with {} shards", gateway.shards);
    }
    if let (true, Some(mut a)) = (embedded, gateway.http_addr) {
        if a.ip().is_unspecified() {
            a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        println!("Tollgate is serving its embedded demo config. Try:");
        println!("  curl -i http://{a}/echo/hello");
        println!("  curl -i http://{a}/status-0123456789abcdef");
        println!(
            "Run `tollgate run --config gateway.yaml` to serve your own APIs (see examples/)."
        );
    }
    let reloader = args.config.as_ref().map(|file| {
        let r = Arc::new(tollgate::reload::Reloader::new(
            file.clone(),
            &loaded,
            snapshot,
            gateway.installer(),
        ));
        tollgate::reload::watch(r.clone(), g.reload.watch_interval, baseline);
        r
    });
    wait_for_signal(signals, &gateway, reloader.as_deref());
    tollgate::info!("shutting down: draining connections");
    gateway.shutdown();
    gateway.join();
    tollgate::info!("stopped");
    ExitCode::SUCCESS
}

/// Until SIGTERM or SIGINT; SIGHUP reloads the configuration and the TLS certificate
/// files.
fn wait_for_signal(
    signals: std::io::Result<signal_hook::iterator::Signals>,
    gateway: &runtime::Gateway,
    reloader: Option<&tollgate::reload::Reloader>,
) {
    use signal_hook::consts::SIGHUP;
    match signals {
        Ok(mut signals) => {
            for signal in signals.forever() {
                if signal != SIGHUP {
                    break;
                }
                match reloader {
                    Some(r) => r.reload_and_log("SIGHUP"),
                    None => tollgate::info!(
                        "SIGHUP: serving the embedded default configuration; nothing to reload"
                    ),
                }
                gateway.reload_tls();
            }
        }
        Err(e) => {
            tollgate::error!("cannot install signal handlers: {e}; stop with SIGKILL");
            loop {
                std::thread::park();
            }
        }
    }
}
