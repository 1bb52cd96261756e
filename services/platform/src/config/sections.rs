//! The sections of the configuration, each with its defaults.

use std::{path::PathBuf, time::Duration};

use serde::{Deserialize, Deserializer, Serialize};

use super::Secret;

/// Clinical rules and alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// An alert nobody acknowledged this long after it was raised (or last escalated) goes up
    /// one priority and to the next tier.
    pub escalate_after_seconds: u64,
    /// How often device silence is judged: a silent device is noticed at most this late.
    pub silence_check_seconds: u64,
    /// Who an alert is routed to at each tier, first at raise; escalation moves it to the next
    /// (the last tier keeps anything escalated beyond it). Integrators subscribe per route.
    pub tiers: Vec<String>,
    /// Who technical alerts go to — conditions of the suite itself, such as its audit log being
    /// out — whatever their age (they are not escalated through the clinical tiers).
    pub technical_route: String,
    /// How long a replica's lease on a partition of patients lasts unless renewed (at a third
    /// of it): a replica that dies has its partitions taken over within about this long.
    pub partition_lease_ms: u64,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig {
            escalate_after_seconds: 300,
            silence_check_seconds: 30,
            tiers: vec![
                "bedside-nurse".to_owned(),
                "charge-nurse".to_owned(),
                "rapid-response-team".to_owned(),
            ],
            technical_route: "admins".to_owned(),
            partition_lease_ms: 6_000,
        }
    }
}

impl RulesConfig {
    pub fn partition_lease(&self) -> Duration {
        Duration::from_millis(self.partition_lease_ms)
    }
}

/// Limits of reading ingestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IngestionConfig {
    /// How far ahead of the server's clock an observation may be (device clock skew).
    pub max_future_skew_ms: u64,
    /// How old an observation may be (backfill after an outage).
    pub backfill_window_hours: u64,
    /// Readings per batch at most.
    pub max_batch: u32,
    /// Batches being ingested at once at most; beyond, callers are told to retry.
    pub max_in_flight_batches: u32,
    /// Readings per second one device may sustain; past it (and its burst) readings are refused
    /// for now with a retry delay, so a runaway device cannot crowd out the others.
    pub device_readings_per_second: u32,
    /// Readings one device may send at once above its rate (a backfill after an outage).
    pub device_burst: u32,
    /// Unresolved rejected readings kept in quarantine per device at most; past it a rejected
    /// reading is answered with its violations but not kept.
    pub quarantine_per_device: u32,
    /// ... and for all devices together.
    pub quarantine_total: u64,
}

impl Default for IngestionConfig {
    fn default() -> Self {
        IngestionConfig {
            max_future_skew_ms: 300_000,
            backfill_window_hours: 168,
            max_batch: 10_000,
            max_in_flight_batches: 64,
            device_readings_per_second: 20,
            device_burst: 5_000,
            quarantine_per_device: 10_000,
            quarantine_total: 1_000_000,
        }
    }
}

/// Optional (mutual) TLS, by file paths (PEM). With `cert_file` and `key_file` the server speaks
/// TLS; with `ca_file` as well, every client must present a certificate signed by that CA, and
/// this process's own clients present `cert_file` and trust servers signed by it. Without
/// `ca_file` (server certificates only), this process's clients trust `trust_file`, or else the
/// system's roots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    /// CA certificates this process's own clients trust for its peers' server certificates
    /// (server-only TLS); unset: those of `ca_file`, or else the system's roots.
    pub trust_file: Option<PathBuf>,
    /// The name this process's clients expect in the server certificate.
    pub server_name: String,
    /// Serve plaintext on an address other than loopback: only where the network itself
    /// encrypts (a service mesh). Off, such a `listen` without TLS is refused at start.
    pub allow_plaintext: bool,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            cert_file: None,
            key_file: None,
            ca_file: None,
            trust_file: None,
            server_name: "localhost".to_owned(),
            allow_plaintext: false,
        }
    }
}

impl TlsConfig {
    pub fn enabled(&self) -> bool {
        self.cert_file.is_some()
    }
}

/// The device registry's bootstrap: the first admin credential.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// The first admin credential (`SENTINEL_REGISTRY__BOOTSTRAP_ADMIN_TOKEN`), at least 24
    /// characters. Unset on an embedded first run: one is generated into `<data_dir>/admin.token`.
    pub bootstrap_admin_token: Option<Secret>,
    /// A file holding it instead.
    pub bootstrap_admin_token_file: Option<PathBuf>,
    /// The identities `sentinel bootstrap` wrote (`identities.toml`: credential ids, roles and
    /// SHA-256 digests, no secret): made sure of at every start, so each service's own
    /// credential is valid on its first start; the ones listed as revoked are revoked.
    pub identities_file: Option<PathBuf>,
    /// Sign-in with the hospital's identity provider: its bearer JWTs accepted beside
    /// Sentinel's own credentials. Off unless set.
    pub oidc: Option<OidcConfig>,
}

/// How the hospital's OpenID Connect provider's tokens are checked and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OidcConfig {
    /// The provider's issuer (`iss`), exactly as its tokens carry it.
    pub issuer: String,
    /// What Sentinel is called in the tokens' `aud`.
    pub audience: String,
    /// The provider's signing keys (a JWKS document) in a file, read again every refresh...
    pub jwks_file: Option<PathBuf>,
    /// ... or fetched from its `jwks_uri` (https; http only on loopback).
    pub jwks_url: Option<String>,
    /// How often the keys are read again; a token signed by a key not yet known makes them
    /// read again sooner, at most once per 5 s.
    pub jwks_refresh_seconds: u64,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway_seconds: u64,
    /// The claim naming the person (recorded as the actor in the audit trail).
    pub subject_claim: String,
    /// The claim holding the person's groups or roles; a dotted path reaches into objects
    /// (`realm_access.roles`).
    pub roles_claim: String,
    /// Which Sentinel roles each group or role of `roles_claim` grants, e.g.
    /// `ward-nurses = ["clinician"]`. Tokens granting none are refused every call.
    pub roles: std::collections::BTreeMap<String, Vec<String>>,
}

impl Default for OidcConfig {
    fn default() -> Self {
        OidcConfig {
            issuer: String::new(),
            audience: String::new(),
            jwks_file: None,
            jwks_url: None,
            jwks_refresh_seconds: 300,
            leeway_seconds: 60,
            subject_claim: "sub".to_owned(),
            roles_claim: "groups".to_owned(),
            roles: std::collections::BTreeMap::new(),
        }
    }
}

/// Where the services this process does not run are reached (`http://host:port`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PeersConfig {
    pub registry: Option<String>,
    pub audit: Option<String>,
    /// Where reading ingestion is reached, for clinical rules running without it.
    pub ingestion: Option<String>,
}

/// The audit log's signing key and checkpoint cadence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// File holding the log's signing key (`PRIVATE+KEY+<name>+<hash>+<key>`).
    pub signing_key_file: Option<PathBuf>,
    /// The signing key itself, for deployments that pass secrets in the environment
    /// (`SENTINEL_AUDIT__SIGNING_KEY`). Never put it in a file in the repository.
    pub signing_key: Option<Secret>,
    /// Name of the log (and of its key) when a key is generated on first start.
    pub origin: String,
    /// Publish a signed checkpoint after this many records...
    pub checkpoint_every_records: u64,
    /// ... or after this long, whichever comes first.
    pub checkpoint_every_ms: u64,
    /// Also append every published checkpoint (a JSON line: tree_size, signed note) to this
    /// file — on storage the database's administrators cannot write, e.g. the auditor's share.
    /// `sentinel audit verify --trusted-checkpoint <file>` checks the log against its latest.
    pub witness_file: Option<PathBuf>,
    /// Refused calls: the first of each kind (RPC, reason, caller) in this window is recorded
    /// in full, repeats are counted and summarised in one record when it ends.
    pub denial_summary_ms: u64,
    /// Refused calls one credential, caller or address may collect at once before its calls
    /// are held back (RESOURCE_EXHAUSTED with RetryInfo)...
    pub refused_burst: u32,
    /// ... and how many a minute its budget refills.
    pub refused_per_minute: u32,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            signing_key_file: None,
            signing_key: None,
            origin: "sentinel.local/audit".to_owned(),
            checkpoint_every_records: 1_000,
            checkpoint_every_ms: 10_000,
            witness_file: None,
            denial_summary_ms: 60_000,
            refused_burst: 200,
            refused_per_minute: 600,
        }
    }
}

impl AuditConfig {
    pub fn denial_summary(&self) -> Duration {
        Duration::from_millis(self.denial_summary_ms)
    }

    pub fn checkpoint_every(&self) -> Duration {
        Duration::from_millis(self.checkpoint_every_ms)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter directive, e.g. `info` or `info,sqlx=warn`.
    pub filter: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

impl<'de> Deserialize<'de> for LogFormat {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        match String::deserialize(deserializer)?.as_str() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            other => Err(serde::de::Error::custom(format!(
                "`{other}` is not a log format: expected text or json"
            ))),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    /// OTLP/gRPC collector endpoint (e.g. `http://otel-collector:4317`); spans are exported
    /// there when set. Trace ids are generated and propagated either way.
    pub otlp_endpoint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HealthConfig {
    /// How often each service's store is checked to keep its health status true.
    pub check_interval_ms: u64,
    /// A second, plaintext listener serving only `grpc.health.v1`, for probes that cannot speak
    /// TLS or present a client certificate (Kubernetes' gRPC probes). Unset: health is served
    /// only beside the services.
    pub listen: Option<std::net::SocketAddr>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            filter: "info".to_owned(),
        }
    }
}

impl Default for HealthConfig {
    fn default() -> Self {
        HealthConfig {
            check_interval_ms: 5_000,
            listen: None,
        }
    }
}

impl HealthConfig {
    pub fn check_interval(&self) -> Duration {
        Duration::from_millis(self.check_interval_ms)
    }
}
