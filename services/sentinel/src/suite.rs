//! Composes the configured services into one gRPC server: each over its own migrated store,
//! beside `grpc.health.v1` and server reflection (v1 and v1alpha).

use std::net::SocketAddr;

use sentinel_audit::AuditService;
use sentinel_platform::{
    Config, ServiceKind, Store, StoreError, StoreLocation, health,
    peer::{PeerError, Peers},
    telemetry,
    tls::Tls,
    wire::StrictWire,
};
use sentinel_registry::RegistryService;
use tokio::{net::TcpListener, sync::watch, task::JoinHandle};
use tokio_stream::{StreamExt, wrappers::TcpListenerStream};
use tonic::{service::RoutesBuilder, transport::Server};

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
    #[error(transparent)]
    Registry(#[from] sentinel_registry::StartError),
    #[error(transparent)]
    Peers(#[from] PeerError),
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
    server: Option<ServerTask>,
    monitor: Option<JoinHandle<()>>,
    /// Background work of the services (the audit writer and checkpoint timer).
    tasks: Vec<JoinHandle<()>>,
    /// How this process's services reach each other.
    peers: Peers,
}

impl Suite {
    /// Opens and migrates each configured service's store, binds the listener and starts
    /// serving in the background.
    pub async fn start(config: &Config) -> Result<RunningSuite, SuiteError> {
        let services = open_stores(config).await?;
        let listen_error = |source| SuiteError::Listen {
            addr: config.listen,
            source,
        };
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(listen_error)?;
        let local_addr = listener.local_addr().map_err(listen_error)?;

        let (shutdown, shutdown_rx) = watch::channel(false);
        let (reporter, health_service) = tonic_health::server::health_reporter();
        let tls = Tls::load(&config.tls).map_err(|e| SuiteError::Tls(e.to_string()))?;
        let mut routes = RoutesBuilder::default();
        // Services reach each other through their contracts, also inside one process.
        let Mounted {
            peers,
            tasks,
            conditions,
        } = mount(
            &mut routes,
            config,
            &services,
            (local_addr, tls.as_ref()),
            &shutdown_rx,
        )
        .await?;
        routes.add_service(health_service.clone());
        let mounted: Vec<ServiceKind> = services.iter().map(|(kind, _)| *kind).collect();
        routes.add_service(reflection(&mounted).build_v1()?);
        routes.add_service(reflection(&mounted).build_v1alpha()?);

        // Health is set before the first request can arrive, then kept true by the monitor.
        let readiness = health::Readiness::new(services.clone(), peers.clone(), conditions);
        let checked = health::first_check(&reporter, &readiness).await;
        let monitor = tokio::spawn(health::monitor(
            reporter,
            readiness,
            checked,
            config.health.check_interval(),
            shutdown_rx.clone(),
        ));
        let mut tasks = tasks;
        if let Some(addr) = config.health.listen {
            tasks.push(serve_health(addr, health_service.clone(), shutdown_rx.clone()).await?);
        }
        let server = serve(listener, routes, tls.as_ref(), shutdown_rx)?;
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
            peers,
        })
    }
}

impl RunningSuite {
    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// How this process's services reach each other.
    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// The credential this process's services present to each other (role `service`).
    pub fn service_token(&self) -> &str {
        self.peers.credential()
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

type ServerTask = JoinHandle<Result<(), tonic::transport::Error>>;

/// Serves `routes` on `listener` (over TLS when configured) until `shutdown` changes.
fn serve(
    listener: TcpListener,
    routes: RoutesBuilder,
    tls: Option<&Tls>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<ServerTask, SuiteError> {
    let mut builder = Server::builder();
    if let Some(tls) = tls {
        builder = builder
            .tls_config(tls.server())
            .map_err(|e| SuiteError::Tls(e.to_string()))?;
    }
    // Replies go out at once: Nagle's algorithm would hold small responses back until the
    // peer's delayed ACK, some 40 ms per call.
    let incoming = TcpListenerStream::new(listener).map(|accepted| {
        accepted.inspect(|stream| {
            if let Err(err) = stream.set_nodelay(true) {
                tracing::warn!(error = %err, "could not disable Nagle's algorithm");
            }
        })
    });
    Ok(tokio::spawn(
        builder
            .trace_fn(telemetry::request_span)
            .layer(StrictWire::new(sentinel_contract::FILE_DESCRIPTOR_SET))
            .add_routes(routes.routes())
            .serve_with_incoming_shutdown(incoming, async move {
                // An error means the sender is gone: shut down as well.
                let _ = shutdown.changed().await;
            }),
    ))
}

/// Serves only `grpc.health.v1`, in plaintext, on `addr` until `shutdown` changes: for probes
/// that cannot speak TLS (Kubernetes' gRPC probes).
async fn serve_health(
    addr: SocketAddr,
    health: tonic_health::pb::health_server::HealthServer<
        impl tonic_health::pb::health_server::Health,
    >,
    mut shutdown: watch::Receiver<bool>,
) -> Result<JoinHandle<()>, SuiteError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| SuiteError::Listen { addr, source })?;
    let server = Server::builder()
        .add_service(health)
        .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
            let _ = shutdown.changed().await;
        });
    Ok(tokio::spawn(async move {
        if let Err(err) = server.await {
            tracing::error!(error = %err, "health listener failed");
        }
    }))
}

/// Opens each configured service's store, applying its migrations.
pub async fn open_stores(config: &Config) -> Result<Vec<(ServiceKind, Store)>, StoreError> {
    let mut stores = Vec::with_capacity(config.services.len());
    for &kind in &config.services {
        let location = StoreLocation::for_service(config, kind);
        let store = match config.migrate_on_start {
            true => Store::open(&location, kind, migrations(kind)).await?,
            false => Store::open_migrated(&location, kind, migrations(kind)).await?,
        };
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

/// What mounting the services gave: how they reach each other, their background work and
/// their own conditions for being ready.
struct Mounted {
    peers: Peers,
    tasks: Vec<JoinHandle<()>>,
    conditions: Vec<(ServiceKind, std::sync::Arc<dyn health::Condition>)>,
}

/// Starts the services this process runs on their stores; returns their background work.
/// The registry goes first: every other service's identity comes from it.
async fn mount(
    routes: &mut RoutesBuilder,
    config: &Config,
    services: &[(ServiceKind, Store)],
    here: (SocketAddr, Option<&Tls>),
    shutdown: &watch::Receiver<bool>,
) -> Result<Mounted, SuiteError> {
    let store = |kind: ServiceKind| {
        services
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, s)| s.clone())
    };
    let registry = match store(ServiceKind::Registry) {
        Some(store) => Some(RegistryService::prepare(config, store).await?),
        None => None,
    };
    let credential = match &registry {
        Some(registry) => registry.internal_credential().to_owned(),
        None => config
            .service_token
            .as_ref()
            .map(|t| t.expose().to_owned())
            .unwrap_or_default(),
    };
    let hosted: Vec<ServiceKind> = services.iter().map(|(kind, _)| *kind).collect();
    let peers = Peers::connect(
        config,
        here,
        &hosted,
        &credential,
        registry.as_ref().map(RegistryService::authenticator),
    )?;
    let mut tasks = Vec::new();
    if let Some(registry) = registry {
        let started = registry.start(&peers);
        routes.add_service(started.server);
    }
    if let Some(store) = store(ServiceKind::Ingestion) {
        let started = sentinel_ingestion::service::start(config, store, &peers, shutdown.clone());
        routes.add_service(started.server);
        tasks.extend(started.tasks);
    }
    let mut conditions = Vec::new();
    if let Some(store) = store(ServiceKind::Rules) {
        let started = sentinel_rules::service::start(config, store, &peers, shutdown.clone()).await;
        routes.add_service(started.server);
        tasks.extend(started.tasks);
        conditions.extend(started.condition.map(|c| (ServiceKind::Rules, c)));
    }
    if let Some(store) = store(ServiceKind::Audit) {
        let started = AuditService::start(config, store, &peers, shutdown.clone()).await?;
        routes.add_service(started.server);
        tasks.extend(started.tasks);
        conditions.extend(started.condition.map(|c| (ServiceKind::Audit, c)));
    }
    Ok(Mounted {
        peers,
        tasks,
        conditions,
    })
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
