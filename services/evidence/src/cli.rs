//! The `evidence` command: builds the compliance evidence pack (`cargo evidence --out
//! target/evidence`), verifies a received pack, and records that a requirement's scenarios
//! were reviewed. A library function, so the binary's `main` stays thin and tests run the
//! command as a quality engineer does, in process.

use std::{
    ffi::OsString,
    io::{BufRead as _, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, ExitCode, Stdio},
};

use clap::{Args, Parser, Subcommand};

use crate::{Inputs, RunRecord, assemble, manifest, pack, record};

/// The test command the pack runs when no results are given: the README's.
const TEST_COMMAND: &str = "cargo test --workspace --no-fail-fast";

#[derive(Debug, Parser)]
#[command(
    name = "evidence",
    about = "Sentinel's IEC 62304 / IMDRF compliance evidence pack"
)]
#[command(args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Cmd>,
    #[command(flatten)]
    build: BuildArgs,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Check a pack: every file against SHA256SUMS and, with a public key, its signature.
    Verify {
        /// The pack's directory.
        #[arg(long, default_value = "target/evidence")]
        pack: PathBuf,
        /// The producer's Ed25519 public key (PEM), received apart from the pack.
        #[arg(long)]
        public_key: Option<PathBuf>,
    },
    /// Record that the scenarios of these requirements were reviewed against their current
    /// statements, clearing their suspect links.
    Review {
        #[arg(required = true)]
        requirements: Vec<String>,
        #[arg(long, default_value = ".")]
        root: PathBuf,
    },
}

#[derive(Debug, Args)]
struct BuildArgs {
    /// Where to write the pack.
    #[arg(long, default_value = "target/evidence")]
    out: PathBuf,
    /// The workspace root the pack is made from.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// Use the results of an earlier test run in this directory instead of running the tests.
    #[arg(long)]
    results: Option<PathBuf>,
    /// The output of that run's `cargo test`, for the unit and integration test counts.
    #[arg(long)]
    test_log: Option<PathBuf>,
    /// Sign the manifest with this Ed25519 private key (PKCS#8, PEM or DER).
    #[arg(long, env = "SENTINEL_EVIDENCE_KEY")]
    sign_key: Option<PathBuf>,
    /// The stores every requirement must be verified on.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    stores: Vec<String>,
}

/// Runs the command `args` (the first being the program's name), writing what it reports to
/// `out` and what went wrong to `err`.
pub fn run(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(usage) => {
            // Help and version go to stdout with success, mistakes to stderr: clap's own rules.
            let _ = usage.print();
            return ExitCode::from(u8::try_from(usage.exit_code()).unwrap_or(2));
        }
    };
    let outcome = match cli.command {
        Some(Cmd::Verify { pack, public_key }) => verify(out, &pack, public_key.as_deref()),
        Some(Cmd::Review { requirements, root }) => review(out, &root, &requirements),
        None => build(out, cli.build),
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "evidence: {message}");
            ExitCode::from(2)
        }
    }
}

/// Runs the README's test command with PostgreSQL required, echoing and keeping its output.
fn run_tests(root: &Path, log: &Path) -> Result<(), String> {
    eprintln!("evidence: running `{TEST_COMMAND}` (SENTINEL_REQUIRE_PG=1)");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(format!("{TEST_COMMAND} 2>&1"))
        .current_dir(root)
        .env("SENTINEL_REQUIRE_PG", "1")
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run the tests: {e}"))?;
    let mut file = std::fs::File::create(log).map_err(|e| format!("{}: {e}", log.display()))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            eprintln!("{line}");
            writeln!(file, "{line}").map_err(|e| e.to_string())?;
        }
    }
    // Failing tests are holes in the pack, not a reason to stop.
    child.wait().map_err(|e| e.to_string())?;
    Ok(())
}

fn build(out: &mut dyn Write, args: BuildArgs) -> Result<ExitCode, String> {
    let started = record::now();
    let (results, test_log, command) = match args.results {
        Some(results) => (results, args.test_log, "results of an earlier run"),
        None => {
            let results = args.root.join("target/cucumber");
            std::fs::create_dir_all(&results).map_err(|e| e.to_string())?;
            let log = results.join("cargo-test.log");
            run_tests(&args.root, &log)?;
            (results, Some(log), TEST_COMMAND)
        }
    };
    let inputs = Inputs {
        root: args.root.clone(),
        results,
        test_log,
        stores: args.stores,
    };
    let evidence = assemble(&inputs).map_err(|e| e.to_string())?;
    let record = RunRecord::of(&evidence, &args.root, started, command);
    pack::write_pack(&evidence, &record, &args.out, args.sign_key.as_deref())
        .map_err(|e| e.to_string())?;

    let s = &evidence.summary;
    writeln!(
        out,
        "evidence pack: {} — {} requirements ({}), {}/{} scenario runs passed, {}/{} risks with \
         verified controls, {} direct / {} locked crates, {} rules, {} audit logs verified",
        args.out.display(),
        s.requirements,
        s.states
            .iter()
            .map(|(state, n)| format!("{n} {state}"))
            .collect::<Vec<_>>()
            .join(", "),
        s.scenario_runs_passed,
        s.scenario_runs,
        s.risks_with_verified_controls,
        s.risks,
        s.soup_direct,
        s.soup_locked,
        s.rules,
        s.audit_databases
    )
    .map_err(|e| e.to_string())?;
    if evidence.passes() {
        writeln!(out, "evidence: PASS").map_err(|e| e.to_string())?;
        Ok(ExitCode::SUCCESS)
    } else {
        for hole in &evidence.holes {
            writeln!(out, "  hole: {hole}").map_err(|e| e.to_string())?;
        }
        writeln!(out, "evidence: FAIL with {} hole(s)", evidence.holes.len())
            .map_err(|e| e.to_string())?;
        Ok(ExitCode::FAILURE)
    }
}

fn verify(out: &mut dyn Write, pack: &Path, public_key: Option<&Path>) -> Result<ExitCode, String> {
    let problems = manifest::verify(pack, public_key).map_err(|e| e.to_string())?;
    if problems.is_empty() {
        writeln!(
            out,
            "evidence pack {}: every file matches SHA256SUMS{}",
            pack.display(),
            if public_key.is_some() {
                ", signed by the given key"
            } else {
                ""
            }
        )
        .map_err(|e| e.to_string())?;
        return Ok(ExitCode::SUCCESS);
    }
    for problem in &problems {
        writeln!(out, "  {problem}").map_err(|e| e.to_string())?;
    }
    writeln!(out, "evidence pack {}: NOT intact", pack.display()).map_err(|e| e.to_string())?;
    Ok(ExitCode::FAILURE)
}

fn review(out: &mut dyn Write, root: &Path, requirements: &[String]) -> Result<ExitCode, String> {
    sentinel_traceability::catalogue::record_review(&root.join("traceability"), requirements)
        .map_err(|e| e.to_string())?;
    writeln!(out, "reviewed: {}", requirements.join(", ")).map_err(|e| e.to_string())?;
    Ok(ExitCode::SUCCESS)
}
