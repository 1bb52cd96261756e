//! Composes the configured services into one gRPC server: each over its own migrated store,
//! beside `grpc.health.v1` and server reflection (v1 and v1alpha).

use std::{net::SocketAddr, sync::Arc};

use sentinel_platform::{
    Config, ServiceError, ServiceKind, Store, StoreError, StoreLocation,
    audit_trail::AuditTrail,
    gate::{Authenticator, Gatekeeper, RegistryAuthenticator},
    health, telemetry,
    tls::Tls,
};
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};
use tonic::{
    service::RoutesBuilder,
    transport::{Channel, Endpoint, Server},
};

#[derive(Debug, thiserror::Error)]
pub enum SuiteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the audit service: {0}")]
    Audit(#[from] sentinel_audit::StartError),
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    #[error("cannot prepare callers' identity: {0}")]
    Identity(#[from] ServiceError),
    #[error("{0}")]
    Peers(String),
    #[error("cannot build server reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("server failed: {0}")]
    Server(#[from] tonic::transport::Error),
    #[error("server task failed: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Entry point for starting the suite.
#[derive(Debug)]
pub struct Suite;

/// A started suite. Stop it with [`RunningSuite::stop`]; dropping it aborts the server as a
/// crash would.
#[derive(Debug)]
pub struct RunningSuite {
    local_addr: SocketAddr,
    services: Vec<(ServiceKind, Store)>,
    shutdown: watch::Sender<bool>,
    server: Option<JoinHandle<Result<(), tonic::transport::Error>>>,
    monitor: Option<JoinHandle<()>>,
    /// Background work of the services (the audit writer and checkpoint timer).
    tasks: Vec<JoinHandle<()>>,
    /// The credential this process's services present to each other.
    service_token: String,
}

impl Suite {
    /// Opens and migrates each configured service's store, binds the listener and starts
    /// serving in the background.
    pub async fn start(config: &Config) -> Result<RunningSuite, SuiteError> {
        let services = open_stores(config).await?;
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SuiteError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| SuiteError::Listen {
            addr: config.listen,
            source,
        })?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let tls = Tls::load(&config.tls).map_err(|e| SuiteError::Tls(e.to_string()))?;
        // Services reach each other through their contracts, also inside one process.
        let scheme = if tls.is_some() { "https" } else { "http" };
        let here =
            client_endpoint(&format!("{scheme}://{local_addr}"), tls.as_ref())?.connect_lazy();
        let identity = Identity::prepare(config, &services, &here, tls.as_ref()).await?;
        let mut routes = RoutesBuilder::default();
        let mut tasks = Vec::new();
        for (kind, store) in &services {
            let gate = identity.gate(*kind);
            tasks.extend(
                mount(
                    &mut routes,
                    *kind,
                    store.clone(),
                    config,
                    &shutdown_rx,
                    gate,
                    &identity,
                )
                .await?,
            );
        }
        routes.add_service(health_service);
        let mounted: Vec<ServiceKind> = services.iter().map(|(kind, _)| *kind).collect();
        routes.add_service(reflection(&mounted).build_v1()?);
        routes.add_service(reflection(&mounted).build_v1alpha()?);

        // Health is set before the first request can arrive, then kept true by the monitor.
        health::report(&reporter, &services).await;
        let monitor = tokio::spawn(health::monitor(
            reporter,
            services.clone(),
            config.health.check_interval(),
            shutdown_rx.clone(),
        ));
        let mut server_shutdown = shutdown_rx;
        let mut builder = Server::builder();
        if let Some(tls) = &tls {
            builder = builder
                .tls_config(tls.server())
                .map_err(|e| SuiteError::Tls(e.to_string()))?;
        }
        let server = tokio::spawn(
            builder
                .trace_fn(telemetry::request_span)
                .add_routes(routes.routes())
                .serve_with_incoming_shutdown(
                    // Replies go out at once: Nagle's algorithm would hold small responses
                    // back until the peer's delayed ACK, some 40 ms per call.
                    TcpListenerStream::new(listener).map(|accepted| {
                        accepted.inspect(|stream| {
                            if let Err(err) = stream.set_nodelay(true) {
                                tracing::warn!(error = %err, "could not disable Nagle's algorithm");
                            }
                        })
                    }),
                    async move {
                        // An error means the sender is gone: shut down as well.
                        let _ = server_shutdown.changed().await;
                    },
                ),
        );
        tracing::info!(
            listen = %local_addr,
            services = ?mounted.iter().map(|kind| kind.name()).collect::<Vec<_>>(),
            store = if config.database_url.is_some() { "postgres" } else { "sqlite" },
            "sentinel serving"
        );
        Ok(RunningSuite {
            local_addr,
            services,
            shutdown,
            server: Some(server),
            monitor: Some(monitor),
            tasks,
            service_token: identity.token.clone(),
        })
    }
}

impl RunningSuite {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The credential this process's services present to each other (role `service`).
    pub fn service_token(&self) -> &str {
        &self.service_token
    }

    /// The services this suite runs, with their stores.
    pub fn services(&self) -> &[(ServiceKind, Store)] {
        &self.services
    }

    /// Stops accepting requests, lets in-flight ones finish, and closes the stores.
    pub async fn stop(mut self) -> Result<(), SuiteError> {
        self.shutdown.send_replace(true);
        if let Some(monitor) = self.monitor.take() {
            monitor.await?;
        }
        let served = match self.server.take() {
            Some(server) => server.await?,
            None => Ok(()),
        };
        // The server is gone, and with it every handle to the services' writers: they finish
        // what was queued, then end.
        for task in self.tasks.drain(..) {
            task.await?;
        }
        for (_, store) in &self.services {
            store.close().await;
        }
        Ok(served?)
    }

    /// Serves until `signal` completes, then stops gracefully.
    pub async fn serve_until(
        self,
        signal: impl std::future::Future<Output = ()>,
    ) -> Result<(), SuiteError> {
        signal.await;
        tracing::info!("shutting down");
        self.stop().await
    }
}

impl Drop for RunningSuite {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.abort();
        }
        if let Some(monitor) = self.monitor.take() {
            monitor.abort();
        }
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

/// Opens each configured service's store, applying its migrations.
pub async fn open_stores(config: &Config) -> Result<Vec<(ServiceKind, Store)>, StoreError> {
    let mut stores = Vec::with_capacity(config.services.len());
    for &kind in &config.services {
        let location = StoreLocation::for_service(config, kind);
        let store = Store::open(&location, kind, migrations(kind)).await?;
        stores.push((kind, store));
    }
    Ok(stores)
}

/// The migrations `kind` owns.
pub fn migrations(kind: ServiceKind) -> sentinel_platform::Migrations {
    match kind {
        ServiceKind::Registry => sentinel_registry::storage::MIGRATIONS,
        ServiceKind::Ingestion => sentinel_ingestion::storage::MIGRATIONS,
        ServiceKind::Rules => sentinel_rules::storage::MIGRATIONS,
        ServiceKind::Audit => sentinel_audit::storage::MIGRATIONS,
    }
}

/// Who the services are to each other: the service credential, how callers are checked, and
/// where audit records go.
struct Identity {
    token: String,
    authenticator: Arc<dyn Authenticator>,
    audit: Channel,
    /// Where the device registry is reached (this process, or `peers.registry`).
    registry: Channel,
    /// Where reading ingestion is reached (this process, or `peers.ingestion`).
    ingestion: Channel,
    credentials: Option<sentinel_registry::credentials::Credentials>,
}

impl Identity {
    async fn prepare(
        config: &Config,
        services: &[(ServiceKind, Store)],
        here: &Channel,
        tls: Option<&Tls>,
    ) -> Result<Identity, SuiteError> {
        let peer = |url: &Option<String>, key: &str| -> Result<Option<Channel>, SuiteError> {
            url.as_ref()
                .map(|url| {
                    client_endpoint(url, tls.filter(|_| url.starts_with("https://")))
                        .map(|e| e.connect_lazy())
                        .map_err(|e| SuiteError::Peers(format!("{key}: {e}")))
                })
                .transpose()
        };
        let local = |kind: ServiceKind| {
            services
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, s)| s.clone())
        };
        let ingestion = match local(ServiceKind::Ingestion) {
            Some(_) => here.clone(),
            None => {
                peer(&config.peers.ingestion, "peers.ingestion")?.unwrap_or_else(|| here.clone())
            }
        };
        let audit = match local(ServiceKind::Audit) {
            Some(_) => here.clone(),
            None => peer(&config.peers.audit, "peers.audit")?.unwrap_or_else(|| here.clone()),
        };
        if let Some(store) = local(ServiceKind::Registry) {
            let credentials = sentinel_registry::credentials::Credentials::new(
                sentinel_registry::storage::RegistryStore::new(store),
            );
            let token = credentials.mint_internal().await?.bearer();
            let configured = bootstrap_token(config)?;
            if let Some(path) = credentials
                .ensure_bootstrap_admin(configured.as_deref(), &config.data_dir)
                .await?
            {
                // The path only: the secret never reaches a log.
                tracing::info!(path = %path.display(), "first admin credential written; present it as `authorization: Bearer <contents>`");
            }
            return Ok(Identity {
                token,
                authenticator: Arc::new(credentials.clone()),
                audit,
                registry: here.clone(),
                ingestion,
                credentials: Some(credentials),
            });
        }
        let token = config
            .service_token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default();
        let registry = match peer(&config.peers.registry, "peers.registry")? {
            Some(channel) => channel,
            None => {
                tracing::warn!(
                    "no registry in this process and no peers.registry: every authenticated call will be refused"
                );
                here.clone()
            }
        };
        Ok(Identity {
            authenticator: Arc::new(RegistryAuthenticator::new(registry.clone(), token.clone())),
            token,
            audit,
            registry,
            ingestion,
            credentials: None,
        })
    }

    fn gate(&self, kind: ServiceKind) -> Gatekeeper {
        Gatekeeper::new(self.authenticator.clone(), self.trail(kind))
    }

    fn trail(&self, kind: ServiceKind) -> AuditTrail {
        AuditTrail::new(self.audit.clone(), kind, self.token.clone())
    }
}

/// An endpoint for this process's own clients, over TLS when it is configured.
fn client_endpoint(url: &str, tls: Option<&Tls>) -> Result<Endpoint, SuiteError> {
    let endpoint = Endpoint::from_shared(url.to_owned())
        .map_err(|e| SuiteError::Peers(e.to_string()))?
        .tcp_nodelay(true);
    match tls {
        Some(tls) => endpoint
            .tls_config(tls.client())
            .map_err(|e| SuiteError::Tls(e.to_string())),
        None => Ok(endpoint),
    }
}

fn bootstrap_token(config: &Config) -> Result<Option<String>, SuiteError> {
    if let Some(token) = &config.registry.bootstrap_admin_token {
        return Ok(Some(token.expose().to_owned()));
    }
    match &config.registry.bootstrap_admin_token_file {
        Some(path) => std::fs::read_to_string(path)
            .map(|t| Some(t.trim().to_owned()))
            .map_err(|e| {
                SuiteError::Peers(format!(
                    "registry.bootstrap_admin_token_file: cannot read {}: {e}",
                    path.display()
                ))
            }),
        None => Ok(None),
    }
}

/// Mounts one service; returns the background tasks it started.
async fn mount(
    routes: &mut RoutesBuilder,
    kind: ServiceKind,
    store: Store,
    config: &Config,
    shutdown: &watch::Receiver<bool>,
    gate: Gatekeeper,
    identity: &Identity,
) -> Result<Vec<JoinHandle<()>>, SuiteError> {
    match kind {
        ServiceKind::Registry => {
            let credentials = identity.credentials.clone().ok_or_else(|| {
                SuiteError::Peers("the registry's credentials were not prepared".into())
            })?;
            let registry =
                sentinel_registry::registry::Registry::new(credentials, identity.trail(kind));
            routes.add_service(sentinel_registry::grpc::server(registry, gate));
        }
        ServiceKind::Ingestion => {
            let directory =
                std::sync::Arc::new(sentinel_ingestion::directory::RegistryDirectory::new(
                    identity.registry.clone(),
                    identity.token.clone(),
                ));
            let ingestor = sentinel_ingestion::ingestor::Ingestor::new(
                sentinel_ingestion::storage::ReadingStore::new(store),
                directory,
                identity.trail(kind),
                config.ingestion.clone(),
                shutdown.clone(),
            );
            routes.add_service(sentinel_ingestion::grpc::server(ingestor, gate));
        }
        ServiceKind::Rules => {
            let registry = sentinel_rules::devices::Registry::new(
                identity.registry.clone(),
                identity.token.clone(),
            );
            let rulebook = sentinel_rules::rulebook::Rulebook::new(
                sentinel_rules::storage::RuleStore::new(store),
                identity.trail(kind),
            );
            let alerts =
                sentinel_rules::storage::alerts::AlertStore::new(rulebook.store().pool_store());
            let desk = sentinel_rules::desk::Desk::new(alerts.clone(), identity.trail(kind));
            let alerts_for_escalation = alerts.clone();
            let silence_watch = sentinel_rules::silence_watch::SilenceWatch::new(
                rulebook.store().clone(),
                alerts.clone(),
                identity.trail(kind),
                registry.clone(),
                std::time::Duration::from_secs(config.rules.silence_check_seconds),
            );
            let evaluator = sentinel_rules::evaluator::Evaluator::new(
                rulebook.store().clone(),
                alerts,
                identity.trail(kind),
                (identity.ingestion.clone(), identity.token.clone()),
                registry.clone(),
            );
            routes.add_service(sentinel_rules::grpc::server(
                rulebook.clone(),
                desk,
                gate,
                shutdown.clone(),
                (identity.ingestion.clone(), identity.token.clone()),
                (registry, config.rules.tiers.clone()),
            ));
            let escalation = sentinel_rules::escalation::Escalation::new(
                alerts_for_escalation,
                identity.trail(kind),
                std::time::Duration::from_secs(config.rules.escalate_after_seconds),
            );
            return Ok(vec![
                tokio::spawn(load_library(rulebook, shutdown.clone())),
                tokio::spawn(evaluator.run(shutdown.clone())),
                tokio::spawn(escalation.run(shutdown.clone())),
                tokio::spawn(silence_watch.run(shutdown.clone())),
            ]);
        }
        ServiceKind::Audit => {
            let (audit, tasks) = sentinel_audit::AuditService::start(
                store,
                &config.audit,
                &config.data_dir,
                shutdown.clone(),
            )
            .await?;
            routes.add_service(sentinel_audit::grpc::server(audit, gate));
            return Ok(tasks);
        }
    };
    Ok(Vec::new())
}

/// Reflection lists exactly what this process serves: its services, health and reflection.
fn reflection(mounted: &[ServiceKind]) -> tonic_reflection::server::Builder<'static> {
    let builder = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(sentinel_contract::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .with_service_name("grpc.health.v1.Health")
        .with_service_name("grpc.reflection.v1.ServerReflection")
        .with_service_name("grpc.reflection.v1alpha.ServerReflection");
    mounted.iter().fold(builder, |builder, kind| {
        builder.with_service_name(kind.grpc_name())
    })
}

/// Loads the built-in rule library on first start, once the suite answers (its audit record
/// goes through the audit service), retrying until it is stored or the suite stops.
async fn load_library(
    rulebook: sentinel_rules::rulebook::Rulebook,
    mut shutdown: watch::Receiver<bool>,
) {
    let loader =
        sentinel_platform::auth::Caller::in_process_service(sentinel_rules::rulebook::LIBRARY);
    loop {
        match rulebook.load_builtin(&loader).await {
            Ok(0) => return,
            Ok(loaded) => {
                tracing::info!(rules = loaded, "built-in rule library loaded");
                return;
            }
            Err(err) => tracing::debug!(error = %err, "rule library not loaded yet; retrying"),
        }
        tokio::select! {
            () = tokio::time::sleep(std::time::Duration::from_millis(100)) => {}
            _ = shutdown.changed() => return,
        }
    }
}
