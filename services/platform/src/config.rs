//! Configuration, layered as defaults → optional TOML file → `SENTINEL_`-prefixed environment
//! → command-line flags, then validated once at start. Every error names the key, where its
//! value came from, and the rule it broke, on one line.

use std::{
    collections::BTreeSet,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    time::Duration,
};

use figment::{
    Figment, Metadata, Profile, Provider,
    providers::{Format, Serialized, Toml},
    value::{Dict, Map, Value},
};
use serde::{Deserialize, Deserializer, Serialize};

use crate::service::ServiceKind;

/// Environment variables with the `SENTINEL_` prefix that are not configuration keys: they
/// steer the test harness or name the configuration file itself.
const NOT_CONFIGURATION: &[&str] = &["config", "pg_bindir", "require_pg"];

/// A secret configuration value: `Debug` never shows it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<secret>")
    }
}

impl Secret {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// The suite's configuration. `Config::default()` is what a newcomer's `sentinel serve` uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the gRPC server listens on.
    #[serde(deserialize_with = "socket_address")]
    pub listen: SocketAddr,
    /// Directory of the embedded SQLite stores (one file per service); created if missing.
    pub data_dir: PathBuf,
    /// A `postgres://` URL; when set, every service keeps its tables in its own schema there
    /// instead of in the embedded SQLite store.
    pub database_url: Option<String>,
    /// Which services this process runs.
    #[serde(deserialize_with = "service_list", serialize_with = "service_names")]
    pub services: BTreeSet<ServiceKind>,
    pub log: LogConfig,
    pub telemetry: TelemetryConfig,
    pub health: HealthConfig,
    pub audit: AuditConfig,
    pub registry: RegistryConfig,
    /// This process's own service credential, for calling services in other processes
    /// (`SENTINEL_SERVICE_TOKEN`). Not needed when the registry runs in this process.
    pub service_token: Option<Secret>,
    pub peers: PeersConfig,
    pub tls: TlsConfig,
    pub ingestion: IngestionConfig,
    pub rules: RulesConfig,
}

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
        }
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
        }
    }
}

/// Optional (mutual) TLS, by file paths (PEM). With `cert_file` and `key_file` the server speaks
/// TLS; with `ca_file` as well, every client must present a certificate signed by that CA, and
/// this process's own clients present `cert_file` and trust servers signed by it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    pub ca_file: Option<PathBuf>,
    /// The name this process's clients expect in the server certificate.
    pub server_name: String,
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            cert_file: None,
            key_file: None,
            ca_file: None,
            server_name: "localhost".to_owned(),
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
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            signing_key_file: None,
            signing_key: None,
            origin: "sentinel.local/audit".to_owned(),
            checkpoint_every_records: 1_000,
            checkpoint_every_ms: 10_000,
        }
    }
}

impl AuditConfig {
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
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            services: ServiceKind::ALL.into_iter().collect(),
            log: LogConfig::default(),
            telemetry: TelemetryConfig::default(),
            health: HealthConfig::default(),
            audit: AuditConfig::default(),
            registry: RegistryConfig::default(),
            service_token: None,
            peers: PeersConfig::default(),
            tls: TlsConfig::default(),
            ingestion: IngestionConfig::default(),
            rules: RulesConfig::default(),
        }
    }
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
        }
    }
}

impl HealthConfig {
    pub fn check_interval(&self) -> Duration {
        Duration::from_millis(self.check_interval_ms)
    }
}

/// Values given as command-line flags; `None` leaves the lower layers' value in place.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FlagOverrides {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", rename = "log")]
    pub log_format: Option<LogFormatFlag>,
}

/// `--log-format` nests under `log.format`.
#[derive(Debug, Clone, Serialize)]
pub struct LogFormatFlag {
    pub format: String,
}

/// Why the configuration was refused: the key, where its value came from, and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub key: String,
    pub origin: Option<String>,
    pub rule: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid configuration: `{}`", self.key)?;
        if let Some(origin) = &self.origin {
            write!(f, " (from {origin})")?;
        }
        // One line, always: a rule from a parser may carry newlines.
        write!(f, ": {}", self.rule.replace('\n', " "))
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn new(key: &str, rule: impl Into<String>) -> Self {
        ConfigError {
            key: key.to_owned(),
            origin: None,
            rule: rule.into(),
        }
    }
}

impl Config {
    /// Loads the layers in order and validates the result. `env` is the process environment
    /// as (name, value) pairs, passed in so tests need not touch the real one.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
        flags: FlagOverrides,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::new(
                    "config",
                    format!("file {} does not exist or is not a file", file.display()),
                ));
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let figment = figment.merge(EnvLayer::from(env)).merge(Flags(flags));
        let config: Config = figment.extract().map_err(from_figment)?;
        config.validate().map_err(|mut err| {
            // The value has the right type but breaks a rule: say which layer it came from.
            if let Some(metadata) = figment.find_metadata(&err.key) {
                let keys: Vec<&str> = err.key.split('.').collect();
                err.origin = Some(origin(metadata, &Profile::Default, &keys));
            }
            err
        })?;
        Ok(config)
    }

    /// Rules a value can break even when it has the right type.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.services.is_empty() {
            return Err(ConfigError::new(
                "services",
                "must name at least one service",
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        if let Some(url) = &self.database_url
            && !(url.starts_with("postgres://") || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database_url",
                "must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite store)",
            ));
        }
        if let Err(err) = tracing_subscriber::EnvFilter::try_new(&self.log.filter) {
            return Err(ConfigError::new(
                "log.filter",
                format!("not a valid tracing filter: {err}"),
            ));
        }
        if let Some(endpoint) = &self.telemetry.otlp_endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "telemetry.otlp_endpoint",
                "must be an http:// or https:// URL",
            ));
        }
        if self.audit.signing_key.is_some() && self.audit.signing_key_file.is_some() {
            return Err(ConfigError::new(
                "audit.signing_key",
                "set either audit.signing_key or audit.signing_key_file, not both",
            ));
        }
        if self.audit.origin.is_empty() || self.audit.origin.contains(['+', ' ', '\n']) {
            return Err(ConfigError::new(
                "audit.origin",
                "must be a non-empty name without spaces or '+', e.g. hospital.example/audit",
            ));
        }
        if self.audit.checkpoint_every_records == 0 {
            return Err(ConfigError::new(
                "audit.checkpoint_every_records",
                "must be greater than 0",
            ));
        }
        if self.audit.checkpoint_every_ms == 0 {
            return Err(ConfigError::new(
                "audit.checkpoint_every_ms",
                "must be greater than 0",
            ));
        }
        if self.registry.bootstrap_admin_token.is_some()
            && self.registry.bootstrap_admin_token_file.is_some()
        {
            return Err(ConfigError::new(
                "registry.bootstrap_admin_token",
                "set either registry.bootstrap_admin_token or registry.bootstrap_admin_token_file, not both",
            ));
        }
        for (key, peer) in [
            ("peers.registry", &self.peers.registry),
            ("peers.audit", &self.peers.audit),
        ] {
            if let Some(url) = peer
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(ConfigError::new(key, "must be an http:// or https:// URL"));
            }
        }
        if self.tls.cert_file.is_some() != self.tls.key_file.is_some() {
            return Err(ConfigError::new(
                "tls.key_file",
                "tls.cert_file and tls.key_file go together: set both or neither",
            ));
        }
        if self.tls.ca_file.is_some() && self.tls.cert_file.is_none() {
            return Err(ConfigError::new(
                "tls.ca_file",
                "mutual TLS needs this process's own tls.cert_file and tls.key_file",
            ));
        }
        for (key, value) in [
            ("ingestion.max_batch", u64::from(self.ingestion.max_batch)),
            (
                "ingestion.max_in_flight_batches",
                u64::from(self.ingestion.max_in_flight_batches),
            ),
            (
                "ingestion.backfill_window_hours",
                self.ingestion.backfill_window_hours,
            ),
            (
                "ingestion.device_readings_per_second",
                u64::from(self.ingestion.device_readings_per_second),
            ),
            (
                "ingestion.device_burst",
                u64::from(self.ingestion.device_burst),
            ),
            (
                "rules.escalate_after_seconds",
                self.rules.escalate_after_seconds,
            ),
            (
                "rules.silence_check_seconds",
                self.rules.silence_check_seconds,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::new(key, "must be greater than 0"));
            }
        }
        if self.rules.tiers.is_empty() || self.rules.tiers.iter().any(|t| t.trim().is_empty()) {
            return Err(ConfigError::new(
                "rules.tiers",
                "must name at least one tier, none of them empty",
            ));
        }
        if self.health.check_interval_ms == 0 {
            return Err(ConfigError::new(
                "health.check_interval_ms",
                "must be greater than 0",
            ));
        }
        Ok(())
    }
}

fn from_figment(err: figment::Error) -> ConfigError {
    // figment reports every error it met; the first is the one to fix first.
    let first = err.into_iter().next();
    let Some(err) = first else {
        return ConfigError::new("?", "unreadable configuration");
    };
    let key = if err.path.is_empty() {
        "(file)".to_owned()
    } else {
        err.path.join(".")
    };
    let keys: Vec<&str> = err.path.iter().map(String::as_str).collect();
    let profile = err.profile.clone().unwrap_or_default();
    ConfigError {
        origin: err.metadata.as_ref().map(|md| origin(md, &profile, &keys)),
        key,
        rule: err.kind.to_string(),
    }
}

/// Where a value came from: `file /etc/sentinel.toml`, `environment variable SENTINEL_LISTEN`,
/// `command-line flag --listen`, or `default`.
fn origin(metadata: &Metadata, profile: &Profile, keys: &[&str]) -> String {
    match &metadata.source {
        Some(figment::Source::File(path)) => format!("file {}", path.display()),
        _ if metadata.name.starts_with("environment") || metadata.name.starts_with("command") => {
            format!("{} {}", metadata.name, metadata.interpolate(profile, keys))
        }
        _ => "default".to_owned(),
    }
}

/// The `SENTINEL_` environment, with `__` nesting (`SENTINEL_LOG__FORMAT=json`).
struct EnvLayer(Vec<(String, String)>);

impl<I: IntoIterator<Item = (String, String)>> From<I> for EnvLayer {
    fn from(vars: I) -> Self {
        EnvLayer(vars.into_iter().collect())
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        Metadata::named("environment variable")
            .interpolater(|_, keys| format!("SENTINEL_{}", keys.join("__").to_ascii_uppercase()))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        // figment's own `Env` reads only the process environment; this layer takes the
        // variables it is given, with the same parsing of values.
        let mut layer = Dict::new();
        for (name, value) in &self.0 {
            let Some(key) = strip_prefix_ignore_case(name, "SENTINEL_") else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            if key.is_empty() || NOT_CONFIGURATION.contains(&key.as_str()) {
                continue;
            }
            let value: Value = value.parse().unwrap_or_else(|never| match never {});
            if let Value::Dict(_, nested) = figment::util::nest(&key.replace("__", "."), value) {
                merge_into(&mut layer, nested);
            }
        }
        Ok(Profile::Default.collect(layer))
    }
}

/// Deep-merges `from` into `into`; a later variable wins over an earlier one.
fn merge_into(into: &mut Dict, from: Dict) {
    for (key, value) in from {
        match (into.get_mut(&key), value) {
            (Some(Value::Dict(_, existing)), Value::Dict(_, nested)) => {
                merge_into(existing, nested);
            }
            (_, value) => {
                into.insert(key, value);
            }
        }
    }
}

fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &name[prefix.len()..])
}

/// Flags sit on top of every other layer.
struct Flags(FlagOverrides);

impl Provider for Flags {
    fn metadata(&self) -> Metadata {
        Metadata::named("command-line flag").interpolater(|_, keys| {
            let flag = match keys {
                ["log", "format"] => "log-format".to_owned(),
                _ => keys.join("-").replace('_', "-"),
            };
            format!("--{flag}")
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        Serialized::defaults(&self.0).data()
    }
}

fn socket_address<'de, D: Deserializer<'de>>(deserializer: D) -> Result<SocketAddr, D::Error> {
    let text = String::deserialize(deserializer)?;
    text.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "`{text}` is not a socket address: expected IP:PORT such as 127.0.0.1:50051"
        ))
    })
}

/// Services as a comma-separated string (flags, environment) or a list (TOML file).
fn service_list<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeSet<ServiceKind>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Names {
        Text(String),
        List(Vec<String>),
    }
    let names = match Names::deserialize(deserializer)? {
        Names::Text(text) => text
            .split(',')
            .filter(|name| !name.trim().is_empty())
            .map(str::to_owned)
            .collect(),
        Names::List(list) => list,
    };
    names
        .iter()
        .map(|name| name.parse().map_err(serde::de::Error::custom))
        .collect()
}

fn service_names<S: serde::Serializer>(
    services: &BTreeSet<ServiceKind>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(services.iter().map(|kind| kind.name()))
}

#[cfg(test)]
mod tests;
