//! `sentinel audit verify` and `sentinel audit export`: an auditor's tools, which read the
//! store (or an export) directly and trust only the public key they are given.

use std::{
    fs::File,
    io::{BufReader, BufWriter, Write},
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand, ValueEnum};
use sentinel_audit::{
    domain::{
        checkpoint::{Checkpoint, LogVerifier},
        verify::Verdict,
    },
    export,
    proof_file::{self, ProofFileError, Proven},
    storage::AuditStore,
};
use sentinel_platform::{Config, ServiceKind, Store, StoreLocation};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Verify the audit log against its hashes and signatures; exit 0 only when intact.
    ///
    /// Reads the store named by --data-dir / --database-url (without changing it), or an
    /// export made by `sentinel audit export`. Nothing but the public key is trusted.
    Verify(VerifyArgs),
    /// Write the audit log as JSON lines (records and signed checkpoints), or as FHIR R4
    /// AuditEvent resources (NDJSON) for a hospital's audit repository.
    Export(ExportArgs),
    /// Check a proof the audit service gave, offline, with the log's public key alone; exit 0
    /// only when it holds.
    ///
    /// The proof is the JSON of a ProveInclusion or ProveConsistency answer (as grpcurl prints
    /// it). An inclusion proof is checked from the record it carries, re-hashed.
    VerifyProof(VerifyProofArgs),
}

#[derive(Debug, Args)]
pub struct VerifyProofArgs {
    /// The log's verifier key (`<name>+<hash>+<key>`), or a file holding it
    #[arg(long, value_name = "KEY|FILE")]
    pub public_key: String,

    /// An InclusionProof (ProveInclusion's answer) as JSON
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "consistency",
        conflicts_with = "consistency"
    )]
    pub inclusion: Option<PathBuf>,

    /// A ConsistencyProof (ProveConsistency's answer) as JSON
    #[arg(long, value_name = "FILE")]
    pub consistency: Option<PathBuf>,
}

#[derive(Debug, Default, Args)]
pub struct AuditStoreArgs {
    /// Directory of the embedded SQLite stores [default: data]
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<String>,

    /// PostgreSQL URL of the suite's database
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The log's verifier key (`<name>+<hash>+<key>`), or a file holding it
    #[arg(long, value_name = "KEY|FILE")]
    pub public_key: String,

    /// Verify this export instead of a store
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,

    /// A signed checkpoint the auditor kept from an earlier look at the log (LatestCheckpoint's
    /// signed note), or a witness file (audit.witness_file; its latest line): the log must
    /// extend it
    #[arg(long, value_name = "FILE", conflicts_with_all = ["trusted_size", "trusted_root"])]
    pub trusted_checkpoint: Option<PathBuf>,

    /// The tree size of a head the auditor wrote down (from an earlier `verify`): the log must
    /// extend it; with --trusted-root
    #[arg(long, value_name = "N", requires = "trusted_root")]
    pub trusted_size: Option<u64>,

    /// The head hash (hex) of that head, as `verify` printed it; with --trusted-size
    #[arg(long, value_name = "HEX", requires = "trusted_size")]
    pub trusted_root: Option<String>,

    #[command(flatten)]
    pub store: AuditStoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// Records and checkpoints, as `sentinel audit verify --export` reads them
    Jsonl,
    /// FHIR R4 AuditEvent resources, one per line
    Fhir,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// File to write [default: standard output]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    #[arg(long, value_enum, default_value = "jsonl")]
    pub format: ExportFormat,

    /// The log's verifier key (or a file holding it), recorded in the export's header
    #[arg(long, value_name = "KEY|FILE")]
    pub public_key: Option<String>,

    #[command(flatten)]
    pub store: AuditStoreArgs,
}

type Failure = Box<dyn std::error::Error>;

fn verifier(key: &str) -> Result<LogVerifier, Failure> {
    let text = if Path::new(key).is_file() {
        std::fs::read_to_string(key)?
    } else {
        key.to_owned()
    };
    LogVerifier::from_text(&text).map_err(|err| format!("--public-key: {err}").into())
}

/// The head the auditor trusts, if one was given: a signed note must verify with the log's key.
fn trusted(args: &VerifyArgs, verifier: &LogVerifier) -> Result<Option<Checkpoint>, Failure> {
    if let Some(path) = &args.trusted_checkpoint {
        let text = std::fs::read_to_string(path)?;
        let note = sentinel_audit::witness::latest_note(&text).ok_or_else(|| {
            format!(
                "--trusted-checkpoint {}: no checkpoint in it",
                path.display()
            )
        })?;
        let checkpoint = verifier
            .open(&note)
            .map_err(|err| format!("--trusted-checkpoint {}: {err}", path.display()))?;
        return Ok(Some(checkpoint));
    }
    let (Some(size), Some(root)) = (args.trusted_size, &args.trusted_root) else {
        return Ok(None);
    };
    let root = hex::decode(root.trim())
        .ok()
        .and_then(|root| root.try_into().ok())
        .ok_or("--trusted-root: not a head hash (64 hexadecimal digits)")?;
    Ok(Some(Checkpoint {
        origin: verifier.name().to_owned(),
        size,
        root,
    }))
}

async fn open(config: &Config) -> Result<AuditStore, Failure> {
    let location = StoreLocation::for_service(config, ServiceKind::Audit);
    let store = Store::open_read_only(&location, ServiceKind::Audit).await?;
    Ok(AuditStore::new(store))
}

/// Verifies and reports; `Ok(false)` when the log is broken.
#[allow(clippy::print_stdout)] // the report is the command's output
pub async fn verify(config: &Config, args: &VerifyArgs) -> Result<bool, Failure> {
    let verifier = verifier(&args.public_key)?;
    let trusted = trusted(args, &verifier)?;
    let (verdict, read) = match &args.export {
        Some(path) => export::verify_export(BufReader::new(File::open(path)?), &verifier, trusted)?,
        None => export::verify_store(&open(config).await?, &verifier, 0, None, trusted).await?,
    };
    match verdict {
        Verdict::Intact { size, root } => {
            let root = hex::encode(root);
            println!("intact: {read} records, tree size {size}, head hash {root}");
            Ok(true)
        }
        Verdict::Broken { sequence, problem } => {
            println!(
                "BROKEN at sequence {sequence}: {problem} ({read} records before it verified)"
            );
            Ok(false)
        }
    }
}

pub async fn export(config: &Config, args: &ExportArgs) -> Result<u64, Failure> {
    let store = open(config).await?;
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(BufWriter::new(File::create(path)?)),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let key = args.public_key.as_deref().map(verifier).transpose()?;
    let count = match (args.format, key) {
        (ExportFormat::Jsonl, Some(key)) => export::export_jsonl(&store, &key, &mut out).await?,
        (ExportFormat::Jsonl, None) => {
            return Err(
                "--public-key is needed for a jsonl export: its header names the key".into(),
            );
        }
        (ExportFormat::Fhir, key) => {
            let origin = key.as_ref().map_or("sentinel", |k| k.name()).to_owned();
            export::export_fhir(&store, &origin, &mut out).await?
        }
    };
    Ok(count)
}

/// Checks a proof and reports; `Ok(false)` when it does not hold.
#[allow(clippy::print_stdout)] // the report is the command's output
pub fn verify_proof(args: &VerifyProofArgs) -> Result<bool, Failure> {
    let verifier = verifier(&args.public_key)?;
    let outcome = match (&args.inclusion, &args.consistency) {
        (Some(path), _) => proof_file::verify_inclusion(&std::fs::read_to_string(path)?, &verifier),
        (None, Some(path)) => {
            proof_file::verify_consistency(&std::fs::read_to_string(path)?, &verifier)
        }
        (None, None) => return Err("--inclusion or --consistency is required".into()),
    };
    match outcome {
        Ok(Proven::Included { sequence, head }) => {
            let root = hex::encode(head.root);
            println!(
                "valid: record {sequence} is in the log of size {}, head hash {root}",
                head.size
            );
            Ok(true)
        }
        Ok(Proven::Consistent { first, second }) => {
            println!(
                "valid: the log of size {} is a prefix of the log of size {}, head hash {}",
                first.size,
                second.size,
                hex::encode(second.root)
            );
            Ok(true)
        }
        Err(ProofFileError::Invalid(problem)) => {
            println!("INVALID: {problem}");
            Ok(false)
        }
        Err(unreadable) => Err(unreadable.into()),
    }
}
