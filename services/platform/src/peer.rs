//! How one service calls another: the one peer client. Each peer's channel is wrapped once so
//! that every outgoing call carries this service's credential and the caller's W3C trace
//! context and has a deadline; calls that are safe to repeat are retried while the peer is
//! briefly unavailable. Services in this process are reached through this process's own
//! listener, so the one-process suite and the split deployment run the same client code.

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use sentinel_contract::{
    audit::v1::audit_log_client::AuditLogClient,
    ingestion::v1::reading_ingestion_client::ReadingIngestionClient,
    registry::v1::{self as registry, device_registry_client::DeviceRegistryClient},
};
use tonic::{
    Code, Request, Status,
    metadata::{Ascii, MetadataValue},
    service::{Interceptor, interceptor::InterceptedService},
    transport::{Channel, Endpoint},
};

use crate::{
    Config, ServiceKind,
    audit_trail::AuditTrail,
    gate::{Authenticator, Gatekeeper},
    telemetry,
    throttle::Throttle,
    tls::Tls,
};

/// How long a peer has to answer a call (for a stream: to start answering).
const DEADLINE: Duration = Duration::from_secs(30);
/// Device ids per `LookupDevices` call: larger sets are asked in chunks.
const LOOKUP_CHUNK: usize = 1_000;
/// Attempts of an idempotent call while its peer answers `UNAVAILABLE`.
const ATTEMPTS: u32 = 3;
/// Pause before the first retry; doubled before each further one.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);

#[derive(Debug, thiserror::Error)]
#[error("{key}: {reason}")]
pub struct PeerError {
    key: String,
    reason: String,
}

/// What every outgoing call gets: this service's credential and the current trace context.
#[derive(Clone)]
pub struct Outgoing {
    authorization: MetadataValue<Ascii>,
}

impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The credential is a secret: never shown.
        f.debug_struct("Outgoing").finish_non_exhaustive()
    }
}

impl Interceptor for Outgoing {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        telemetry::inject_trace_context(request.metadata_mut());
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
        Ok(request)
    }
}

/// A channel as peer clients use it.
pub type PeerChannel = InterceptedService<Channel, Outgoing>;

/// One peer service, called with this service's credential.
#[derive(Debug, Clone)]
pub struct Peer {
    channel: Channel,
    outgoing: Outgoing,
}

impl Peer {
    /// Calls through `channel`, presenting `credential` (a bearer value) on every call.
    pub fn new(channel: Channel, credential: &str) -> Result<Peer, PeerError> {
        let authorization = format!("Bearer {credential}")
            .parse()
            .map_err(|_| PeerError {
                key: "service_token".into(),
                reason: "is not valid gRPC metadata".into(),
            })?;
        Ok(Peer {
            channel,
            outgoing: Outgoing { authorization },
        })
    }

    /// The bare channel, for calls that need no credential (health checks).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    fn intercepted(&self) -> PeerChannel {
        InterceptedService::new(self.channel.clone(), self.outgoing.clone())
    }

    pub fn registry(&self) -> DeviceRegistryClient<PeerChannel> {
        DeviceRegistryClient::new(self.intercepted())
    }

    pub fn ingestion(&self) -> ReadingIngestionClient<PeerChannel> {
        ReadingIngestionClient::new(self.intercepted())
    }

    pub fn audit(&self) -> AuditLogClient<PeerChannel> {
        AuditLogClient::new(self.intercepted())
    }

    /// The registered devices among `ids`, each with its bindings, asked of the device registry
    /// (this peer) in chunks; unknown ids are left out.
    pub async fn lookup_devices(
        &self,
        ids: &[String],
    ) -> Result<Vec<registry::DeviceWithBindings>, Status> {
        let mut found = Vec::new();
        for chunk in ids.chunks(LOOKUP_CHUNK) {
            let request = registry::LookupDevicesRequest {
                ids: chunk.to_vec(),
            };
            let answer = idempotent(|| {
                let mut client = self.registry();
                let request = request.clone();
                async move { client.lookup_devices(request).await }
            })
            .await?;
            found.extend(answer.into_inner().devices);
        }
        Ok(found)
    }
}

/// Runs `call` — one that is safe to repeat — again while the peer answers `UNAVAILABLE`,
/// a few times with a growing pause; any other answer is final.
pub async fn idempotent<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        match call().await {
            Err(status) if status.code() == Code::Unavailable && attempt < ATTEMPTS => {
                tracing::debug!(attempt, "peer unavailable; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            answer => return answer,
        }
    }
}

/// Where this process's services reach each other, and who vouches for callers.
#[derive(Debug, Clone)]
pub struct Peers {
    pub registry: Peer,
    pub ingestion: Peer,
    pub audit: Peer,
    /// The credential this process's services present to their peers (role `service`).
    credential: crate::config::Secret,
    /// Checks callers' credentials: the registry's own credentials when it runs in this
    /// process, otherwise the registry peer.
    pub authenticator: Arc<dyn Authenticator>,
    /// How often repeated denials are summarised in the audit log.
    denial_window: Duration,
    /// Refusals per key at once, and refilled per minute (`platform::throttle`).
    refused: (u32, u32),
}

impl Peers {
    /// Each peer this process reaches: its own listener at `here` for the services in
    /// `hosted`, the configured `peers.*` address for the others (over TLS for `https://`).
    /// Channels connect lazily, at the first call.
    pub fn connect(
        config: &Config,
        (here, tls): (SocketAddr, Option<&Tls>),
        hosted: &[ServiceKind],
        credential: &str,
        authenticator: Option<Arc<dyn Authenticator>>,
    ) -> Result<Peers, PeerError> {
        let scheme = if tls.is_some() { "https" } else { "http" };
        let local = endpoint("listen", &format!("{scheme}://{here}"), tls)?.connect_lazy();
        let reach = |kind: ServiceKind, configured: &Option<String>| -> Result<Peer, PeerError> {
            let key = format!("peers.{}", kind.name());
            let channel = match configured.as_deref().filter(|_| !hosted.contains(&kind)) {
                Some(url) => {
                    let tls = tls.filter(|_| url.starts_with("https://"));
                    endpoint(&key, url, tls)?.connect_lazy()
                }
                None => {
                    if kind == ServiceKind::Registry && !hosted.contains(&kind) {
                        tracing::warn!(
                            "no registry in this process and no peers.registry: every authenticated call will be refused"
                        );
                    }
                    local.clone()
                }
            };
            Peer::new(channel, credential)
        };
        let registry = reach(ServiceKind::Registry, &config.peers.registry)?;
        let authenticator = authenticator
            .unwrap_or_else(|| Arc::new(crate::gate::RegistryAuthenticator::new(registry.clone())));
        Ok(Peers {
            ingestion: reach(ServiceKind::Ingestion, &config.peers.ingestion)?,
            audit: reach(ServiceKind::Audit, &config.peers.audit)?,
            registry,
            credential: crate::config::Secret(credential.to_owned()),
            authenticator,
            denial_window: config.audit.denial_summary(),
            refused: (config.audit.refused_burst, config.audit.refused_per_minute),
        })
    }

    /// The credential this process's services present to their peers (role `service`).
    pub fn credential(&self) -> &str {
        self.credential.expose()
    }

    /// Where `service` records its actions.
    pub fn trail(&self, service: ServiceKind) -> AuditTrail {
        AuditTrail::new(self.audit.clone(), service)
    }

    /// How `service` admits its callers (denials recorded in its trail).
    pub fn gate(&self, service: ServiceKind) -> Gatekeeper {
        let (burst, per_minute) = self.refused;
        Gatekeeper::new(
            self.authenticator.clone(),
            self.trail(service),
            self.denial_window,
        )
        .throttled(Throttle::new(per_minute, burst))
    }
}

/// An endpoint for a peer at `url`, over TLS when `tls` is given.
fn endpoint(key: &str, url: &str, tls: Option<&Tls>) -> Result<Endpoint, PeerError> {
    let error = |reason: String| PeerError {
        key: key.to_owned(),
        reason,
    };
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| error(e.to_string()))?
        .tcp_nodelay(true)
        .timeout(DEADLINE);
    match tls {
        Some(tls) => endpoint
            .tls_config(tls.client())
            .map_err(|e| error(e.to_string())),
        None => Ok(endpoint),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn idempotent_calls_are_retried_only_while_unavailable() {
        let mut calls = 0;
        let answer: Result<u32, Status> = idempotent(|| {
            calls += 1;
            let attempt = calls;
            async move {
                if attempt < 3 {
                    Err(Status::unavailable("starting"))
                } else {
                    Ok(attempt)
                }
            }
        })
        .await;
        assert_eq!(answer.unwrap(), 3);

        let mut calls = 0;
        let answer: Result<u32, Status> = idempotent(|| {
            calls += 1;
            async { Err(Status::permission_denied("no")) }
        })
        .await;
        assert_eq!(answer.unwrap_err().code(), Code::PermissionDenied);
        assert_eq!(calls, 1);

        let mut calls = 0;
        let answer: Result<u32, Status> = idempotent(|| {
            calls += 1;
            async { Err(Status::unavailable("down")) }
        })
        .await;
        assert_eq!(answer.unwrap_err().code(), Code::Unavailable);
        assert_eq!(calls, ATTEMPTS);
    }

    #[tokio::test]
    async fn the_credential_never_shows_in_debug() {
        let channel = Endpoint::from_static("http://127.0.0.1:1").connect_lazy();
        let peer = Peer::new(channel, "snt_secret.value").unwrap();
        assert!(!format!("{peer:?}").contains("snt_secret"));
    }
}
