//! The suite, in-process on port 0, over a store of its own.

use std::{collections::BTreeSet, net::SocketAddr, path::Path};

use sentinel::{RunningSuite, Suite};
use sentinel_platform::{Config, ServiceKind};
use tempfile::TempDir;
use tonic::transport::Channel;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

use sentinel_contract::{
    audit::v1::audit_log_client::AuditLogClient,
    registry::v1::device_registry_client::DeviceRegistryClient,
};
use tonic::service::interceptor::InterceptedService;

use crate::postgres;

/// A channel whose requests carry a bearer credential.
pub type Authed = InterceptedService<Channel, Bearer>;

/// Adds `authorization: Bearer <token>` to every request.
#[derive(Debug, Clone)]
pub struct Bearer(tonic::metadata::MetadataValue<tonic::metadata::Ascii>);

impl Bearer {
    pub fn new(token: &str) -> Self {
        Bearer(
            format!("Bearer {token}")
                .parse()
                .expect("a token is valid metadata"),
        )
    }
}

impl tonic::service::Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        request
            .metadata_mut()
            .insert("authorization", self.0.clone());
        Ok(request)
    }
}

/// Which store the suite runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoreKind {
    Sqlite,
    Postgres,
}

impl StoreKind {
    pub const ALL: [StoreKind; 2] = [StoreKind::Sqlite, StoreKind::Postgres];

    pub fn name(self) -> &'static str {
        match self {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        }
    }

    /// A `database_url` for a fresh, empty store of this kind: `None` for SQLite (the suite
    /// then uses its data directory), a new database on the shared server for PostgreSQL.
    pub async fn fresh_database_url(self) -> Option<String> {
        self.fresh_database_on(postgres::shared).await
    }

    /// Like [`StoreKind::fresh_database_url`], on a durable PostgreSQL (for benchmarks).
    pub async fn fresh_durable_database_url(self) -> Option<String> {
        self.fresh_database_on(postgres::durable).await
    }

    async fn fresh_database_on(
        self,
        server: fn() -> Option<&'static postgres::PgServer>,
    ) -> Option<String> {
        match self {
            StoreKind::Sqlite => None,
            StoreKind::Postgres => Some(
                server()
                    .expect("PostgreSQL is not available here")
                    .create_database()
                    .await,
            ),
        }
    }

    /// Whether this store can be used here: PostgreSQL may be missing on a developer's
    /// machine (and is then skipped with a notice), never in CI.
    pub fn available(self) -> bool {
        match self {
            StoreKind::Sqlite => true,
            StoreKind::Postgres => postgres::shared().is_some(),
        }
    }
}

/// A running suite with its own fresh store, stopped (and its files removed) when dropped.
#[derive(Debug)]
pub struct TestSuite {
    suite: Option<RunningSuite>,
    config: Config,
    // Declared last: the store's files outlive the server that uses them.
    data_dir: TempDir,
}

impl TestSuite {
    /// Starts `services` over a fresh store of `store`'s kind.
    ///
    /// # Panics
    /// When the suite cannot start, or PostgreSQL is asked for but unavailable.
    pub async fn start(store: StoreKind, services: &[ServiceKind]) -> TestSuite {
        let (config, data_dir) = TestSuite::prepare(store, services).await;
        TestSuite::start_with(config, data_dir).await
    }

    /// The configuration [`TestSuite::start`] would use, to adjust before starting: port 0, a
    /// fresh temp data dir, and for PostgreSQL a fresh database on the shared server.
    pub async fn prepare(store: StoreKind, services: &[ServiceKind]) -> (Config, TempDir) {
        let data_dir = tempfile::tempdir().expect("temp data dir");
        let database_url = store.fresh_database_url().await;
        let config = Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.path().to_owned(),
            database_url,
            services: services.iter().copied().collect::<BTreeSet<_>>(),
            ..Config::default()
        };
        (config, data_dir)
    }

    /// Starts the suite with `config` as given (its `listen` should use port 0).
    pub async fn start_with(config: Config, data_dir: TempDir) -> TestSuite {
        let suite = Suite::start(&config)
            .await
            .unwrap_or_else(|e| panic!("suite failed to start: {e}"));
        TestSuite {
            suite: Some(suite),
            config,
            data_dir,
        }
    }

    /// For replicas of one audit log, which sign with one key: runs `sentinel bootstrap` into a
    /// directory of its own (returned: it holds the identities and credentials too) and points
    /// `config` at its signing key.
    pub fn bootstrap_shared(config: &mut Config) -> TempDir {
        let files = tempfile::tempdir().unwrap();
        sentinel::bootstrap::run(&sentinel::bootstrap::Options {
            out: files.path().to_owned(),
            rotate: false,
            origin: config.audit.origin.clone(),
            tls: false,
            tls_names: Vec::new(),
        })
        .unwrap();
        config.audit.signing_key_file = Some(files.path().join("audit-signing.key"));
        files
    }

    pub fn addr(&self) -> SocketAddr {
        self.running().local_addr()
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir.path()
    }

    pub fn running(&self) -> &RunningSuite {
        self.suite.as_ref().expect("suite is running")
    }

    /// A client channel to the suite, as an outside caller would connect.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(format!("http://{}", self.addr()))
            .expect("valid endpoint")
            .connect()
            .await
            .expect("connect to the suite")
    }

    /// A client of the audit log holding the suite's own service credential, as another
    /// service does.
    pub async fn audit(&self) -> AuditLogClient<Authed> {
        AuditLogClient::with_interceptor(
            self.channel().await,
            Bearer::new(self.running().service_token()),
        )
    }

    /// A client of the device registry presenting `token`.
    pub async fn registry_as(&self, token: &str) -> DeviceRegistryClient<Authed> {
        DeviceRegistryClient::with_interceptor(self.channel().await, Bearer::new(token))
    }

    /// The first admin credential the suite wrote on its first start.
    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.data_dir().join("admin.token"))
            .expect("the first admin credential")
            .trim()
            .to_owned()
    }

    /// The store of `kind`, for tests that look behind the API (or tamper with it).
    pub fn store(&self, kind: ServiceKind) -> &sentinel_platform::Store {
        self.running()
            .services()
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, store)| store)
            .expect("the service runs in this suite")
    }

    /// What `grpc.health.v1.Health/Check` answers for `service` ("" for the whole server).
    pub async fn health(&self, service: &str) -> Result<ServingStatus, tonic::Status> {
        let mut client = HealthClient::new(self.channel().await);
        let response = client
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await?;
        Ok(response.into_inner().status())
    }

    /// Stops the suite gracefully, as SIGTERM would.
    pub async fn stop(mut self) {
        if let Some(suite) = self.suite.take() {
            suite.stop().await.expect("suite stops cleanly");
        }
    }

    /// Drops the suite without a clean shutdown, as a crash would, and hands back its
    /// configuration and data directory to start it again.
    pub fn crash(mut self) -> (Config, TempDir) {
        drop(self.suite.take());
        (self.config, self.data_dir)
    }

    /// A client of reading ingestion presenting `token`.
    pub async fn ingestion_as(
        &self,
        token: &str,
    ) -> sentinel_contract::ingestion::v1::reading_ingestion_client::ReadingIngestionClient<Authed>
    {
        sentinel_contract::ingestion::v1::reading_ingestion_client::ReadingIngestionClient::with_interceptor(self.channel().await, Bearer::new(token))
    }

    /// A client of clinical rules presenting `token`.
    pub async fn rules_as(
        &self,
        token: &str,
    ) -> sentinel_contract::rules::v1::clinical_rules_client::ClinicalRulesClient<Authed> {
        sentinel_contract::rules::v1::clinical_rules_client::ClinicalRulesClient::with_interceptor(
            self.channel().await,
            Bearer::new(token),
        )
    }

    /// Stops the suite gracefully and hands back its data directory, to start another suite
    /// on the same stores.
    pub async fn stop_keeping_data(mut self) -> TempDir {
        if let Some(suite) = self.suite.take() {
            suite.stop().await.expect("suite stops cleanly");
        }
        self.data_dir
    }
}
