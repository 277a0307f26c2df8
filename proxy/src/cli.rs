//! The `tollgate` command line: nouns and verbs after `az apim` (`tollgate config
//! validate`, `tollgate run`, …), parsed with clap.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "tollgate",
    version,
    about = "Tollgate: an API Management gateway that runs Azure APIM's model and policies",
    long_about = "Tollgate is an API gateway for the Azure API Management model: APIs, operations, \
products, subscriptions, backends, named values and APIM policy XML.\n\n\
Start with `tollgate run` (no config: an embedded demo you can curl), check a config with \
`tollgate config validate gateway.yaml`."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway: one shard per CPU serving gateway.yaml (or the embedded demo).
    Run(RunArgs),
    /// Check or print a configuration file without running it.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Run the built-in echo backend (answers every request with a JSON description).
    Echo(EchoArgs),
    /// Inspect policies.
    #[command(subcommand)]
    Policy(PolicyCommand),
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Print the effective policy of an API or operation (scopes merged at <base/>,
    /// fragments inlined, secrets masked, each policy annotated with where it was
    /// written) and its compiled program — APIM's "Calculate effective policy".
    Explain {
        /// The gateway.yaml to read.
        file: PathBuf,
        /// API id.
        #[arg(long = "api", value_name = "ID")]
        api: String,
        /// Operation id (default: the API scope alone).
        #[arg(long = "operation", value_name = "ID")]
        operation: Option<String>,
        /// Product id: the effective policy in that product's context.
        #[arg(long = "product", value_name = "ID")]
        product: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// gateway.yaml to serve. Without it, an embedded demo config is served and a
    /// built-in echo backend is started on 127.0.0.1:8089.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override gateway.listen.http (e.g. 127.0.0.1:0 for an ephemeral port).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Override gateway.listen.https (needs gateway.tls certificates).
    #[arg(long, value_name = "ADDR")]
    pub listen_https: Option<SocketAddr>,
    /// Override gateway.shards (number of shards; 0 = one per available CPU).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// Load and check everything `tollgate run` would; print every error with
    /// file:line:col and exit non-zero if there is any.
    Validate {
        /// The gateway.yaml to check.
        file: PathBuf,
    },
    /// Print the resolved configuration (defaults filled in, secrets masked).
    Show {
        /// The gateway.yaml to print.
        file: PathBuf,
    },
}

#[derive(Args, Debug)]
pub struct EchoArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8089", value_name = "ADDR")]
    pub listen: SocketAddr,
}
