//! Configuration, layered as defaults → optional TOML file → `SENTINEL_`-prefixed environment
//! → command-line flags, then validated once at start. Every error names the key, where its
//! value came from, and the rule it broke, on one line.

use std::{
    collections::BTreeSet,
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
};

use figment::{
    Figment, Profile,
    providers::{Format, Serialized, Toml},
};
use serde::{Deserialize, Deserializer, Serialize};

use crate::service::ServiceKind;

mod layers;
mod sections;
mod validate;

use layers::{EnvLayer, Flags, from_figment, origin};
pub use layers::{FlagOverrides, LogFormatFlag};
pub use sections::{
    AuditConfig, HealthConfig, IngestionConfig, LogConfig, LogFormat, OidcConfig, PeersConfig,
    RegistryConfig, RulesConfig, TelemetryConfig, TlsConfig,
};

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
    /// A file holding `database_url` instead (a mounted Secret); read at start.
    pub database_url_file: Option<PathBuf>,
    /// Files holding this process's own database user and password (a mounted
    /// `kubernetes.io/basic-auth` Secret), put into `database_url` in place of any it names.
    pub database_user_file: Option<PathBuf>,
    pub database_password_file: Option<PathBuf>,
    /// Apply pending migrations at start (the default). Off where a separate step migrates
    /// (`sentinel migrate`, a Kubernetes Job): a store lacking a migration is then refused.
    pub migrate_on_start: bool,
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
    /// A file holding `service_token` instead (a mounted Secret, as `sentinel bootstrap`
    /// writes it); read at start.
    pub service_token_file: Option<PathBuf>,
    pub peers: PeersConfig,
    pub tls: TlsConfig,
    pub ingestion: IngestionConfig,
    pub rules: RulesConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("data"),
            database_url: None,
            database_url_file: None,
            database_user_file: None,
            database_password_file: None,
            migrate_on_start: true,
            services: ServiceKind::ALL.into_iter().collect(),
            log: LogConfig::default(),
            telemetry: TelemetryConfig::default(),
            health: HealthConfig::default(),
            audit: AuditConfig::default(),
            registry: RegistryConfig::default(),
            service_token: None,
            service_token_file: None,
            peers: PeersConfig::default(),
            tls: TlsConfig::default(),
            ingestion: IngestionConfig::default(),
            rules: RulesConfig::default(),
        }
    }
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
        let mut config: Config = figment.extract().map_err(from_figment)?;
        config.read_secret_files()?;
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
}

impl Config {
    /// Reads the secrets given as files (mounted Secrets) into their values, so the rest of
    /// the program sees one setting. A key and its `_file` twin are not both allowed.
    pub fn read_secret_files(&mut self) -> Result<(), ConfigError> {
        if let Some(path) = &self.database_url_file {
            validate::either(
                "database_url",
                "database_url_file",
                self.database_url.is_some(),
                true,
            )?;
            self.database_url = Some(read_secret_file("database_url_file", path)?);
        }
        self.read_database_credential()?;
        if let Some(path) = &self.service_token_file {
            validate::either(
                "service_token",
                "service_token_file",
                self.service_token.is_some(),
                true,
            )?;
            self.service_token = Some(Secret(read_secret_file("service_token_file", path)?));
        }
        Ok(())
    }
}

impl Config {
    /// Puts the user and password of `database_user_file` and `database_password_file` into
    /// `database_url`, so each service can connect as its own role with a URL that holds no
    /// credential of its own (a ConfigMap's).
    fn read_database_credential(&mut self) -> Result<(), ConfigError> {
        let (user, password) = match (&self.database_user_file, &self.database_password_file) {
            (None, None) => return Ok(()),
            (Some(user), Some(password)) => (
                read_secret_file("database_user_file", user)?,
                read_secret_file("database_password_file", password)?,
            ),
            _ => {
                return Err(ConfigError::new(
                    "database_password_file",
                    "database_user_file and database_password_file go together: set both or neither",
                ));
            }
        };
        let Some(url) = &self.database_url else {
            return Err(ConfigError::new(
                "database_user_file",
                "needs database_url (or database_url_file) to say where the database is",
            ));
        };
        let Some(url) = crate::store::with_login(url, Some(&user), Some(&password)) else {
            return Err(ConfigError::new(
                "database_url",
                "must be a postgres:// URL",
            ));
        };
        self.database_url = Some(url);
        Ok(())
    }
}

/// The trimmed contents of a file holding one secret; an empty file is refused.
fn read_secret_file(key: &str, path: &Path) -> Result<String, ConfigError> {
    let text = std::fs::read_to_string(path)
        .map_err(|err| ConfigError::new(key, format!("cannot read {}: {err}", path.display())))?;
    let text = text.trim();
    if text.is_empty() {
        return Err(ConfigError::new(
            key,
            format!("{} is empty", path.display()),
        ));
    }
    Ok(text.to_owned())
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
