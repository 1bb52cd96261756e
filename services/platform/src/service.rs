//! The four services of the suite, as configuration, health and routing know them.

use std::{fmt, str::FromStr};

use tokio::task::JoinHandle;

/// A started service: its gRPC server, ready to mount beside the others, and the background
/// work it runs until shutdown.
#[derive(Debug)]
pub struct Started<S> {
    pub server: S,
    pub tasks: Vec<JoinHandle<()>>,
    /// What the service needs, beyond its store and peers, to be ready (see `health`).
    pub condition: Option<std::sync::Arc<dyn crate::health::Condition>>,
}

/// One of Sentinel's services. `serve` runs all of them in one process, or any subset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKind {
    Registry,
    Ingestion,
    Rules,
    Audit,
}

impl ServiceKind {
    /// Every service, in the order data flows through them.
    pub const ALL: [ServiceKind; 4] = [
        ServiceKind::Registry,
        ServiceKind::Ingestion,
        ServiceKind::Rules,
        ServiceKind::Audit,
    ];

    /// The short name used in configuration (`--services registry,audit`), store file
    /// names and PostgreSQL schema names.
    pub const fn name(self) -> &'static str {
        match self {
            ServiceKind::Registry => "registry",
            ServiceKind::Ingestion => "ingestion",
            ServiceKind::Rules => "rules",
            ServiceKind::Audit => "audit",
        }
    }

    /// The fully qualified gRPC service name, as health checks and reflection report it.
    pub const fn grpc_name(self) -> &'static str {
        match self {
            ServiceKind::Registry => "sentinel.registry.v1.DeviceRegistry",
            ServiceKind::Ingestion => "sentinel.ingestion.v1.ReadingIngestion",
            ServiceKind::Rules => "sentinel.rules.v1.ClinicalRules",
            ServiceKind::Audit => "sentinel.audit.v1.AuditLog",
        }
    }
}

impl fmt::Display for ServiceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A service name that is not one of [`ServiceKind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service `{0}`: expected one of registry, ingestion, rules, audit")]
pub struct UnknownService(pub String);

impl FromStr for ServiceKind {
    type Err = UnknownService;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        ServiceKind::ALL
            .into_iter()
            .find(|kind| kind.name() == name.trim())
            .ok_or_else(|| UnknownService(name.trim().to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for kind in ServiceKind::ALL {
            assert_eq!(kind.name().parse::<ServiceKind>(), Ok(kind));
        }
    }

    #[test]
    fn unknown_names_are_refused_with_the_choices() {
        let err = "alerts".parse::<ServiceKind>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown service `alerts`: expected one of registry, ingestion, rules, audit"
        );
    }
}
