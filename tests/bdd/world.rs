//! The world every scenario runs in: a suite in-process, or the `sentinel` binary as an
//! operator starts it, on the store this run of the features is for.

use std::{
    net::SocketAddr,
    sync::atomic::{AtomicBool, Ordering},
};

use sentinel_testkit::{StoreKind, TestSuite, process::Started};

/// Which store this run of the features uses; the runner runs them once per store.
static ON_POSTGRES: AtomicBool = AtomicBool::new(false);

pub fn set_store(store: StoreKind) {
    ON_POSTGRES.store(store == StoreKind::Postgres, Ordering::SeqCst);
}

pub fn store() -> StoreKind {
    if ON_POSTGRES.load(Ordering::SeqCst) {
        StoreKind::Postgres
    } else {
        StoreKind::Sqlite
    }
}

/// How the scenario starts the binary: one value per configuration layer it sets.
#[derive(Debug, Default)]
pub struct Launch {
    pub file_lines: Vec<String>,
    pub env: Vec<(String, String)>,
    pub flags: Vec<(String, String)>,
    /// The arguments and environment of the last start, to start again on the same store.
    pub last: Option<LastStart>,
}

/// How the binary was last started: its arguments and environment.
pub type LastStart = (Vec<std::ffi::OsString>, Vec<(String, String)>);

#[derive(Debug, Default, cucumber::World)]
pub struct SuiteWorld {
    /// The suite started in-process, if the scenario started one.
    pub suite: Option<TestSuite>,
    /// How to start the binary, gathered by `Given` steps.
    pub launch: Launch,
    /// What became of the binary once started.
    pub started: Option<Started>,
    /// Temp files of the binary's run (its data dir and config file).
    pub scratch: Option<tempfile::TempDir>,
    /// The last answer of a reflection query.
    pub listed: Vec<String>,
    /// What the audit steps appended, asked and were told.
    pub audit: AuditWorld,
    /// What the registry steps registered, issued and were told.
    pub registry: RegistryWorld,
    /// The certificate authority of a mutual-TLS scenario.
    pub pki: Option<sentinel_testkit::tls::Pki>,
    /// What the ingestion steps submitted and were told.
    pub ingestion: IngestionWorld,
    /// What the rules steps drafted and were told.
    pub rules: RulesWorld,
    /// The copy of the repository the evidence steps build packs from.
    pub evidence: EvidenceWorld,
    /// Services in a server of their own, and the suite while it is stopped.
    pub split: SplitWorld,
    /// The manifests as shipped, running as separate processes.
    pub kubernetes: KubernetesWorld,
    /// The hospital's identity provider and what its tokens were told.
    pub sign_in: SignInWorld,
    /// The answer to the last raw request.
    pub wire: Option<sentinel_testkit::wire::Answer>,
    /// What became of the last flood of batches.
    pub flood: Option<sentinel_testkit::flood::Flood>,
}

#[derive(Debug, Default)]
pub struct SignInWorld {
    /// The identity provider the suite trusts.
    pub idp: Option<sentinel_testkit::idp::IdentityProvider>,
    /// The token of the last refused call, to look for in the answer.
    pub token: String,
    /// The outcome of the last call.
    pub outcome: Option<Result<(), tonic::Status>>,
}

#[derive(Debug, Default)]
pub struct KubernetesWorld {
    pub variant: String,
    pub deployed: Option<sentinel_testkit::split::Deployed>,
    pub outcome: Option<sentinel_testkit::split::flow::Outcome>,
}

#[derive(Debug, Default)]
pub struct SplitWorld {
    /// Reading ingestion alone, with the suite as its peers.
    pub edge: Option<TestSuite>,
    /// The suite's configuration (with the address it listened on) and store while stopped.
    pub stopped: Option<(sentinel_platform::Config, tempfile::TempDir)>,
    /// That server's answer to the last batch.
    pub answer: Option<Result<sentinel_contract::ingestion::v1::IngestResponse, tonic::Status>>,
    /// The directory `sentinel bootstrap` wrote (the suite's data directory).
    pub bootstrap: Option<std::path::PathBuf>,
    /// The service credentials of the first bootstrap, before it ran again.
    pub first: Vec<String>,
    /// The audit log in a server of its own, with the id of its service credential.
    pub audit: Option<(TestSuite, String)>,
    /// The codes of the calls refused in the last burst.
    pub refused: Vec<tonic::Code>,
    /// How long the last burst of calls took.
    pub burst: std::time::Duration,
}

#[derive(Debug, Default)]
pub struct EvidenceWorld {
    /// The copy (`root/`), its results (`results/`) and the packs built (`pack-N/`).
    pub dir: Option<tempfile::TempDir>,
    /// The evidence of each pack built, in order.
    pub built: Vec<sentinel_evidence::Evidence>,
    pub key: Option<std::path::PathBuf>,
}

#[derive(Debug, Default)]
pub struct RulesWorld {
    /// Bearer secrets of the named users.
    pub secrets: std::collections::HashMap<String, String>,
    /// The rule and version the last steps worked on.
    pub rule_id: String,
    pub version: u32,
    /// The outcome of the last call that was refused.
    pub refused: Option<tonic::Status>,
    /// The clinician acting in alert scenarios.
    pub clinician: String,
    /// The last backtest's report.
    pub backtest: Option<sentinel_contract::rules::v1::BacktestResponse>,
    /// The next sequence number a reported series uses.
    pub sequence: u32,
    /// The device (id, bearer secret) whose falls mark how far the evaluator has come.
    pub marker: Option<(String, String)>,
}

#[derive(Debug, Default)]
pub struct IngestionWorld {
    /// The readings of each batch as submitted, by batch id.
    pub batches:
        std::collections::HashMap<String, Vec<sentinel_contract::ingestion::v1::ReadingInput>>,
    /// The first and the latest answer.
    pub first: Option<sentinel_contract::ingestion::v1::IngestResponse>,
    pub last: Option<sentinel_contract::ingestion::v1::IngestResponse>,
    /// The gateway's secret, for payload scenarios.
    pub gateway_secret: String,
    /// The last payload batch: its first payload's bytes, and the answer.
    pub payload: Vec<u8>,
    pub payloads: Option<sentinel_contract::ingestion::v1::IngestPayloadsResponse>,
    /// The answers to one payload sent once with each IEEE 11073 special value.
    pub specials: Vec<sentinel_contract::ingestion::v1::PayloadResult>,
    /// When the last forwarded reading should be observed (µs).
    pub expected_at: i64,
    /// Acknowledgements of the last stream, by batch id in order.
    pub acks: Vec<sentinel_contract::ingestion::v1::IngestResponse>,
    /// Every acknowledgement streamed, by batch id (the latest per id).
    pub acked: std::collections::HashMap<String, sentinel_contract::ingestion::v1::IngestResponse>,
    /// Another writer's transaction holding the reading log's lock.
    pub blocker: Option<sqlx::Transaction<'static, sqlx::Any>>,
    /// A batch waiting for that lock.
    pub waiting: Option<
        tokio::task::JoinHandle<
            Result<
                tonic::Response<sentinel_contract::ingestion::v1::IngestResponse>,
                tonic::Status,
            >,
        >,
    >,
    /// The outcome of the last call that was refused.
    pub refused: Option<tonic::Status>,
}

#[derive(Debug, Default)]
pub struct RegistryWorld {
    /// Device ids by the names scenarios give them.
    pub devices: std::collections::HashMap<String, String>,
    /// (credential id, secret) of each named user or device.
    pub credentials: std::collections::HashMap<String, (String, String)>,
    /// Secrets replaced by a rotation, by name.
    pub old_secrets: std::collections::HashMap<String, String>,
    /// Binding ids by patient reference.
    pub bindings: std::collections::HashMap<String, String>,
    /// The outcome of the last call: `None` when it succeeded.
    pub refused: Option<tonic::Status>,
    /// The binary's run: its data directory and what it logged, and secrets used against it.
    pub run: Option<(tempfile::TempDir, String, Vec<String>)>,
}

#[derive(Debug, Default)]
pub struct AuditWorld {
    pub records: Vec<sentinel_contract::audit::v1::AuditRecord>,
    pub refused: Option<tonic::Status>,
    pub verdict: Option<sentinel_contract::audit::v1::verify_response::Verdict>,
    pub inclusion: Option<sentinel_contract::audit::v1::InclusionProof>,
    pub consistency: Option<sentinel_contract::audit::v1::ConsistencyProof>,
    /// Exit status and standard output of the last `sentinel audit` command.
    pub command: Option<(Option<i32>, String)>,
    /// Exit status and standard output of each of a series of `sentinel audit` commands.
    pub outcomes: Vec<(Option<i32>, String)>,
    /// The `sentinel audit verify` arguments naming the head an auditor kept.
    pub kept: Vec<String>,
    pub export: Option<std::path::PathBuf>,
    pub start_error: Option<String>,
    /// The scenario altered its audit log on purpose: verification must find it broken.
    pub tampered: bool,
    /// The signed checkpoint the scenario's auditor kept, checked by the after-scenario
    /// verification too.
    pub trusted_note: String,
}

/// One scenario's audit log as the audit service verified it after the scenario, for the
/// evidence pack (`target/cucumber/audit-<store>.json`).
#[derive(Debug, serde::Serialize)]
pub struct LogCheck {
    pub scenario: String,
    pub checked: u64,
    pub intact: bool,
    pub problem: String,
    pub tampered: bool,
}

static LOG_CHECKS: std::sync::Mutex<Vec<LogCheck>> = std::sync::Mutex::new(Vec::new());

/// Asks the scenario's in-process suite to verify its whole audit log. Scenarios without an
/// audit service, or whose store was stopped on purpose, have nothing to verify.
pub async fn verify_audit_log(world: &SuiteWorld, scenario: String) {
    use sentinel_contract::audit::v1::{VerifyRequest, verify_response::Verdict};
    let Some(suite) = &world.suite else { return };
    // A head the scenario's auditor kept is checked too: a log cut short with its checkpoints
    // removed is broken only against it.
    let request = VerifyRequest {
        trusted_checkpoint: world.audit.trusted_note.clone(),
        ..Default::default()
    };
    let Ok(answer) = suite.audit().await.verify(request).await else {
        return;
    };
    let answer = answer.into_inner();
    let (intact, problem) = match answer.verdict {
        Some(Verdict::Intact(_)) => (true, String::new()),
        Some(Verdict::Broken(broken)) => (
            false,
            format!("sequence {}: {}", broken.sequence, broken.problem),
        ),
        None => (false, "no verdict".to_owned()),
    };
    LOG_CHECKS.lock().expect("log checks").push(LogCheck {
        scenario,
        checked: answer.checked,
        intact,
        problem,
        tampered: world.audit.tampered,
    });
}

/// The checks gathered since the last call, for one store's report.
pub fn take_log_checks() -> Vec<LogCheck> {
    std::mem::take(&mut *LOG_CHECKS.lock().expect("log checks"))
}

impl SuiteWorld {
    /// Where the suite under test listens, in-process or as a binary.
    pub fn addr(&self) -> SocketAddr {
        match (&self.suite, &self.started) {
            (Some(suite), _) => suite.addr(),
            (None, Some(Started::Serving(process))) => process.addr,
            _ => panic!("no suite is running in this scenario"),
        }
    }

    /// A fresh store for this run: `None` on SQLite, a new database on PostgreSQL.
    pub async fn database_url() -> Option<String> {
        store().fresh_database_url().await
    }
}
