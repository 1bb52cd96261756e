//! The `sentinel` command line: parse, load the configuration, run. Usage and configuration
//! errors end the process with status 2 and one line naming the flag or key and the rule.

use std::{ffi::OsString, path::PathBuf, process::ExitCode};

use clap::{Args, Parser, Subcommand};
use sentinel_platform::{
    Config,
    config::{FlagOverrides, LogFormatFlag},
    telemetry,
};

use crate::{
    bootstrap,
    suite::{self, Suite},
};

mod audit;
use audit::{AuditCommand, AuditStoreArgs};

const ABOUT: &str = "Sentinel: regulatory-grade alerting for the Internet of Medical Things.";

const LONG_ABOUT: &str = "\
Sentinel: regulatory-grade alerting for the Internet of Medical Things.

It takes readings from medical devices, checks and normalises them, evaluates risk-classified
clinical rules and raises alerts, and records every action in a tamper-evident audit log.

Configuration is layered: built-in defaults, then the TOML file given by --config (or
SENTINEL_CONFIG), then SENTINEL_-prefixed environment variables (SENTINEL_LISTEN,
SENTINEL_DATABASE_URL, SENTINEL_LOG__FORMAT, ...), then flags. Invalid configuration stops
the program at start with a message naming the key.";

#[derive(Debug, Parser)]
#[command(name = "sentinel", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    /// TOML configuration file (keys as in docs/configuration.md)
    #[arg(long, global = true, env = "SENTINEL_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the services (all four by default) on one gRPC port, with health and reflection.
    ///
    /// With no configuration, each service keeps an embedded SQLite file under ./data.
    /// Try it with: grpcurl -plaintext 127.0.0.1:50051 list
    Serve(ServeArgs),
    /// Apply pending database migrations for the selected services, then exit.
    ///
    /// `serve` applies them too; this is for deployments that migrate as a separate step.
    Migrate(StoreArgs),
    /// The audit log's offline tools: verify it, export it.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Make what a split deployment needs besides its database: each service's credential,
    /// the first admin's, the registry's identities and the audit signing key, as files.
    ///
    /// Kept as they are on a re-run (a running deployment stays valid); --rotate gives each
    /// service a new credential and has the registry revoke the old ones at its next start.
    /// For Kubernetes: sentinel bootstrap --out deploy/kubernetes/secrets
    Bootstrap(BootstrapArgs),
}

#[derive(Debug, Args)]
struct BootstrapArgs {
    /// Directory to write the files into, created if missing
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Give every service a new credential, revoking the old ones
    #[arg(long)]
    rotate: bool,

    /// Also make a private CA and the services' certificate (tls/), for the TLS overlays
    #[arg(long)]
    tls: bool,

    /// A further name for the certificate (an ingress's host, say); repeatable
    #[arg(long, value_name = "NAME", requires = "tls")]
    tls_name: Vec<String>,
}

#[derive(Debug, Args)]
struct StoreArgs {
    /// Directory of the embedded SQLite stores, created if missing [default: data]
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,

    /// PostgreSQL URL (postgres://user:pass@host/db); each service uses its own schema there
    #[arg(long, value_name = "URL")]
    database_url: Option<String>,

    /// Comma-separated services: registry, ingestion, rules, audit [default: all]
    #[arg(long, value_name = "LIST")]
    services: Option<String>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:50051]
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,

    /// Log format: text or json [default: text]
    #[arg(long, value_name = "FORMAT")]
    log_format: Option<String>,

    #[command(flatten)]
    store: StoreArgs,
}

/// What to run, with the configuration it runs under.
#[derive(Debug)]
pub enum Invocation {
    Serve(Config),
    Migrate(Config),
    Audit(Config, AuditCommand),
    Bootstrap(bootstrap::Options),
}

/// Why the command line was refused, as the one line to print.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// `--help` or `--version`: print and succeed.
    #[error("{0}")]
    Info(String),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Config(#[from] sentinel_platform::ConfigError),
}

/// Parses `args` and loads the configuration from the file, `env` and the flags.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Invocation, CliError> {
    let cli = Cli::try_parse_from(args).map_err(|err| usage_error(&err))?;
    let load = |flags| Config::load(cli.config.as_deref(), env, flags);
    Ok(match cli.command {
        Command::Serve(args) => Invocation::Serve(load(FlagOverrides {
            listen: args.listen,
            log_format: args.log_format.map(|format| LogFormatFlag { format }),
            ..store_flags(args.store)
        })?),
        Command::Migrate(args) => Invocation::Migrate(load(store_flags(args))?),
        Command::Audit(command) => {
            let none = AuditStoreArgs::default();
            let store = match &command {
                AuditCommand::Verify(args) => &args.store,
                AuditCommand::Export(args) => &args.store,
                AuditCommand::VerifyProof(_) => &none,
            };
            let config = load(audit_store_flags(store))?;
            Invocation::Audit(config, command)
        }
        Command::Bootstrap(args) => {
            let config = load(FlagOverrides::default())?;
            Invocation::Bootstrap(bootstrap::Options {
                out: args.out,
                rotate: args.rotate,
                origin: config.audit.origin,
                tls: args.tls,
                tls_names: args.tls_name,
            })
        }
    })
}

fn audit_store_flags(args: &AuditStoreArgs) -> FlagOverrides {
    FlagOverrides {
        data_dir: args.data_dir.clone(),
        database_url: args.database_url.clone(),
        ..FlagOverrides::default()
    }
}

fn store_flags(args: StoreArgs) -> FlagOverrides {
    FlagOverrides {
        data_dir: args.data_dir,
        database_url: args.database_url,
        services: args.services,
        ..FlagOverrides::default()
    }
}

fn usage_error(err: &clap::Error) -> CliError {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => CliError::Info(err.to_string()),
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand | ErrorKind::MissingSubcommand => {
            CliError::Usage(
                "error: a command is required: serve, migrate, audit or bootstrap (see `sentinel --help`)".into(),
            )
        }
        _ => {
            // clap's first line names the flag and what is wrong with it; the rest is usage.
            let rendered = err.to_string();
            let first = rendered
                .lines()
                .next()
                .unwrap_or("error: invalid arguments");
            CliError::Usage(format!("{first} (see `sentinel --help`)"))
        }
    }
}

/// Runs the program: the whole of `main`, with its exit status.
#[allow(clippy::print_stdout)] // `--help`, `--version` and `migrate` report on stdout
pub fn main(
    args: impl IntoIterator<Item = OsString>,
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> ExitCode {
    // Non-UTF-8 variables cannot be configuration; they are left out rather than fatal.
    let env = env
        .into_iter()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)));
    let invocation = match parse(args, env) {
        Ok(invocation) => invocation,
        Err(CliError::Info(text)) => {
            print!("{text}");
            return ExitCode::SUCCESS;
        }
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match invocation {
            Invocation::Serve(config) => serve(&config).await.map(|()| true),
            Invocation::Migrate(config) => migrate(&config).await.map(|()| true),
            Invocation::Bootstrap(options) => bootstrap(&options).map(|()| true),
            Invocation::Audit(config, AuditCommand::Verify(args)) => {
                audit::verify(&config, &args).await
            }
            Invocation::Audit(_, AuditCommand::VerifyProof(args)) => audit::verify_proof(&args),
            Invocation::Audit(config, AuditCommand::Export(args)) => {
                audit::export(&config, &args).await.map(|count| {
                    eprintln!("exported {count} audit records");
                    true
                })
            }
        }
    });
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        // The command ran and found a failure it reported (a broken audit log).
        Ok(false) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    let _telemetry = telemetry::init(&config.log, &config.telemetry)?;
    let shutdown = shutdown_signal()?;
    if config.plaintext_off_loopback() {
        tracing::warn!(
            listen = %config.listen,
            "serving plaintext beyond loopback (tls.allow_plaintext): credentials and patient data are encrypted only if the network encrypts them"
        );
    }
    if sentinel_platform::private_file::open_to_others(&config.data_dir) {
        tracing::warn!(
            data_dir = %config.data_dir.display(),
            "the data directory (keys, credentials, stores) is open to others: chmod 700 it"
        );
    }
    let suite = Suite::start(config).await?;
    tracing::info!("reach it with: {}", reach_hint(config, suite.local_addr()));
    suite.serve_until(shutdown).await?;
    Ok(())
}

/// The grpcurl command that reaches this server over the transport it speaks.
fn reach_hint(config: &Config, addr: std::net::SocketAddr) -> String {
    let tls = &config.tls;
    if !tls.enabled() {
        return format!("grpcurl -plaintext {addr} list");
    }
    let mut hint = String::from("grpcurl");
    if let Some(ca) = tls.ca_file.as_ref().or(tls.trust_file.as_ref()) {
        hint.push_str(&format!(" -cacert {}", ca.display()));
    }
    if tls.ca_file.is_some() {
        hint.push_str(" -cert <your certificate> -key <your key>");
    }
    format!("{hint} -authority {} {addr} list", tls.server_name)
}

#[allow(clippy::print_stdout)]
async fn migrate(config: &Config) -> Result<(), Box<dyn std::error::Error>> {
    // Migrating is what this command is for, whatever `migrate_on_start` says for `serve`.
    let config = Config {
        migrate_on_start: true,
        ..config.clone()
    };
    for (kind, store) in suite::open_stores(&config).await? {
        let versions = store.applied_migrations().await?;
        println!(
            "{kind}: {} migration(s) applied, latest {} ({:?})",
            versions.len(),
            versions.last().copied().unwrap_or(0),
            store.backend()
        );
        store.close().await;
    }
    Ok(())
}

#[allow(clippy::print_stdout)]
fn bootstrap(options: &bootstrap::Options) -> Result<(), Box<dyn std::error::Error>> {
    let report = bootstrap::run(options)?;
    for path in &report.written {
        println!("wrote {}", path.display());
    }
    for path in &report.kept {
        println!("kept  {}", path.display());
    }
    if !report.revoked.is_empty() {
        println!(
            "{} previous service credential(s) listed as revoked: the registry revokes them at its next start",
            report.revoked.len()
        );
    }
    if options.tls {
        println!(
            "TLS: kubectl -n sentinel create secret generic sentinel-tls --from-file={}; {} stays with you, mounted nowhere",
            options.out.join(bootstrap::tls::DIR).display(),
            bootstrap::tls::CA_KEY_FILE
        );
    }
    println!(
        "{} holds secrets: keep it out of version control; admin.token is yours, mounted nowhere",
        options.out.display()
    );
    Ok(())
}

/// Ctrl-C, or SIGTERM as Kubernetes sends before it stops a pod, listened for from this call on:
/// a signal that arrives while the suite starts (health may already answer) is kept for the
/// returned future instead of killing the process before it drains and flushes its log.
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut term = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = term.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}
