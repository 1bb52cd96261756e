//! Rules a value can break even when it has the right type, checked section by section in the
//! order the sections are listed; the first broken rule is the one reported.

use super::{
    AuditConfig, Config, ConfigError, HealthConfig, IngestionConfig, LogConfig, OidcConfig,
    PeersConfig, RegistryConfig, RulesConfig, TelemetryConfig, TlsConfig,
};
use crate::auth::Role;

type Checked = Result<(), ConfigError>;

impl Config {
    /// Rules a value can break even when it has the right type.
    pub fn validate(&self) -> Checked {
        self.validate_process()?;
        self.validate_transport()?;
        self.log.validate()?;
        self.telemetry.validate()?;
        self.audit.validate()?;
        self.registry.validate()?;
        self.peers.validate()?;
        self.tls.validate()?;
        self.ingestion.validate()?;
        self.rules.validate()?;
        self.health.validate()
    }

    /// What this process runs, and where it keeps its data.
    fn validate_process(&self) -> Checked {
        if self.services.is_empty() {
            return Err(ConfigError::new(
                "services",
                "must name at least one service",
            ));
        }
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::new("data_dir", "must not be empty"));
        }
        match &self.database_url {
            Some(url) if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) => {
                Err(ConfigError::new(
                    "database_url",
                    "must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite store)",
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Config {
    /// Bearer credentials and patient data never cross a network in clear by default: off
    /// loopback, the API port speaks TLS unless plaintext is explicitly allowed.
    fn validate_transport(&self) -> Checked {
        if self.listen.ip().is_loopback() || self.tls.enabled() || self.tls.allow_plaintext {
            return Ok(());
        }
        Err(ConfigError::new(
            "listen",
            format!(
                "{} is not loopback: set tls.cert_file and tls.key_file (SENTINEL_TLS__CERT_FILE, \
                 SENTINEL_TLS__KEY_FILE) to serve TLS, or tls.allow_plaintext = true only where the \
                 network encrypts (a service mesh)",
                self.listen
            ),
        ))
    }

    /// Whether this process serves plaintext beyond loopback (allowed, so warned of).
    pub fn plaintext_off_loopback(&self) -> bool {
        !self.listen.ip().is_loopback() && !self.tls.enabled()
    }
}

/// `value` must not be 0.
fn positive(key: &str, value: u64) -> Checked {
    if value == 0 {
        return Err(ConfigError::new(key, "must be greater than 0"));
    }
    Ok(())
}

/// `url`, when set, must be an http:// or https:// URL.
fn http_url(key: &str, url: Option<&str>) -> Checked {
    match url {
        Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            Err(ConfigError::new(key, "must be an http:// or https:// URL"))
        }
        _ => Ok(()),
    }
}

/// At most one of two ways to give a secret.
pub(super) fn either(key: &str, other: &str, first: bool, second: bool) -> Checked {
    if first && second {
        return Err(ConfigError::new(
            key,
            format!("set either {key} or {other}, not both"),
        ));
    }
    Ok(())
}

impl LogConfig {
    fn validate(&self) -> Checked {
        tracing_subscriber::EnvFilter::try_new(&self.filter)
            .map(|_| ())
            .map_err(|err| {
                ConfigError::new("log.filter", format!("not a valid tracing filter: {err}"))
            })
    }
}

impl TelemetryConfig {
    fn validate(&self) -> Checked {
        http_url("telemetry.otlp_endpoint", self.otlp_endpoint.as_deref())
    }
}

impl AuditConfig {
    fn validate(&self) -> Checked {
        either(
            "audit.signing_key",
            "audit.signing_key_file",
            self.signing_key.is_some(),
            self.signing_key_file.is_some(),
        )?;
        if self.origin.is_empty() || self.origin.contains(['+', ' ', '\n']) {
            return Err(ConfigError::new(
                "audit.origin",
                "must be a non-empty name without spaces or '+', e.g. hospital.example/audit",
            ));
        }
        positive(
            "audit.checkpoint_every_records",
            self.checkpoint_every_records,
        )?;
        positive("audit.checkpoint_every_ms", self.checkpoint_every_ms)?;
        positive("audit.refused_burst", u64::from(self.refused_burst))?;
        positive(
            "audit.refused_per_minute",
            u64::from(self.refused_per_minute),
        )?;
        positive("audit.denial_summary_ms", self.denial_summary_ms)
    }
}

impl RegistryConfig {
    fn validate(&self) -> Checked {
        either(
            "registry.bootstrap_admin_token",
            "registry.bootstrap_admin_token_file",
            self.bootstrap_admin_token.is_some(),
            self.bootstrap_admin_token_file.is_some(),
        )?;
        self.oidc.as_ref().map_or(Ok(()), OidcConfig::validate)
    }
}

impl OidcConfig {
    fn validate(&self) -> Checked {
        for (key, value) in [
            ("registry.oidc.issuer", &self.issuer),
            ("registry.oidc.audience", &self.audience),
            ("registry.oidc.subject_claim", &self.subject_claim),
            ("registry.oidc.roles_claim", &self.roles_claim),
        ] {
            if value.trim().is_empty() {
                return Err(ConfigError::new(key, "must not be empty"));
            }
        }
        if self.jwks_file.is_some() == self.jwks_url.is_some() {
            return Err(ConfigError::new(
                "registry.oidc.jwks_url",
                "set exactly one of registry.oidc.jwks_file and registry.oidc.jwks_url",
            ));
        }
        if let Some(url) = &self.jwks_url {
            jwks_url(url)?;
        }
        positive(
            "registry.oidc.jwks_refresh_seconds",
            self.jwks_refresh_seconds,
        )?;
        if self.leeway_seconds > 300 {
            return Err(ConfigError::new(
                "registry.oidc.leeway_seconds",
                "must be at most 300: a longer skew keeps expired tokens working",
            ));
        }
        for (group, roles) in &self.roles {
            for role in roles {
                if !matches!(Role::from_code(role), Some(r) if r.held_by_people()) {
                    return Err(ConfigError::new(
                        &format!("registry.oidc.roles.{group}"),
                        format!(
                            "`{role}` is not a role a person may hold (clinician, rule-author, \
                             rule-approver, integrator, quality, admin)"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// The provider's keys are fetched over https; http only from this host (tests, a sidecar).
fn jwks_url(url: &str) -> Checked {
    let loopback_http = ["http://127.0.0.1", "http://localhost", "http://[::1]"]
        .iter()
        .any(|prefix| {
            url.strip_prefix(prefix)
                .is_some_and(|rest| rest.starts_with([':', '/']))
        });
    if url.starts_with("https://") || loopback_http {
        return Ok(());
    }
    Err(ConfigError::new(
        "registry.oidc.jwks_url",
        "must be an https:// URL (http:// only on loopback)",
    ))
}

impl PeersConfig {
    fn validate(&self) -> Checked {
        http_url("peers.registry", self.registry.as_deref())?;
        http_url("peers.audit", self.audit.as_deref())?;
        http_url("peers.ingestion", self.ingestion.as_deref())
    }
}

impl TlsConfig {
    fn validate(&self) -> Checked {
        if self.cert_file.is_some() != self.key_file.is_some() {
            return Err(ConfigError::new(
                "tls.key_file",
                "tls.cert_file and tls.key_file go together: set both or neither",
            ));
        }
        if self.ca_file.is_some() && self.cert_file.is_none() {
            return Err(ConfigError::new(
                "tls.ca_file",
                "mutual TLS needs this process's own tls.cert_file and tls.key_file",
            ));
        }
        if self.trust_file.is_some() && self.cert_file.is_none() {
            return Err(ConfigError::new(
                "tls.trust_file",
                "goes with tls.cert_file and tls.key_file: this process's clients speak TLS only when it does",
            ));
        }
        Ok(())
    }
}

impl IngestionConfig {
    fn validate(&self) -> Checked {
        positive("ingestion.max_batch", u64::from(self.max_batch))?;
        positive(
            "ingestion.quarantine_per_device",
            u64::from(self.quarantine_per_device),
        )?;
        positive("ingestion.quarantine_total", self.quarantine_total)?;
        positive(
            "ingestion.max_in_flight_batches",
            u64::from(self.max_in_flight_batches),
        )?;
        positive(
            "ingestion.backfill_window_hours",
            self.backfill_window_hours,
        )?;
        positive(
            "ingestion.device_readings_per_second",
            u64::from(self.device_readings_per_second),
        )?;
        positive("ingestion.device_burst", u64::from(self.device_burst))
    }
}

impl RulesConfig {
    fn validate(&self) -> Checked {
        positive("rules.escalate_after_seconds", self.escalate_after_seconds)?;
        positive("rules.silence_check_seconds", self.silence_check_seconds)?;
        if self.partition_lease_ms < 300 {
            return Err(ConfigError::new(
                "rules.partition_lease_ms",
                "must be at least 300 (renewed at a third of it)",
            ));
        }
        if self.tiers.is_empty() || self.tiers.iter().any(|t| t.trim().is_empty()) {
            return Err(ConfigError::new(
                "rules.tiers",
                "must name at least one tier, none of them empty",
            ));
        }
        if self.technical_route.trim().is_empty() {
            return Err(ConfigError::new(
                "rules.technical_route",
                "must name who technical alerts go to",
            ));
        }
        Ok(())
    }
}

impl HealthConfig {
    fn validate(&self) -> Checked {
        positive("health.check_interval_ms", self.check_interval_ms)
    }
}
