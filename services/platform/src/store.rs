//! Each service's own store: an embedded SQLite file under the data directory (the default),
//! or its own schema in PostgreSQL. Services share SQL through sqlx's `Any` driver and branch
//! on [`Backend`] only where the dialects differ.

use std::{path::PathBuf, str::FromStr, sync::Once, time::Duration};

use sqlx::{
    AnyPool, Connection, Executor,
    any::{AnyConnectOptions, AnyPoolOptions},
    migrate::Migrator,
};

use crate::{
    config::{Config, Secret},
    private_file,
    service::ServiceKind,
};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where one service keeps its tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A SQLite file of the service's own.
    Sqlite { path: PathBuf },
    /// The service's own schema in a PostgreSQL database.
    Postgres { url: String, schema: String },
}

impl StoreLocation {
    /// The location the configuration gives `service`: its own schema when a PostgreSQL URL
    /// is set, otherwise `<data_dir>/<service>.db`.
    pub fn for_service(config: &Config, service: ServiceKind) -> StoreLocation {
        match &config.database_url {
            Some(url) => StoreLocation::Postgres {
                url: url.clone(),
                schema: service.name().to_owned(),
            },
            None => StoreLocation::Sqlite {
                path: config.data_dir.join(format!("{}.db", service.name())),
            },
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            StoreLocation::Sqlite { .. } => Backend::Sqlite,
            StoreLocation::Postgres { .. } => Backend::Postgres,
        }
    }
}

/// A service's migrations, one set per backend (the dialects differ).
#[derive(Debug, Clone, Copy)]
pub struct Migrations {
    pub sqlite: &'static Migrator,
    pub postgres: &'static Migrator,
}

impl Migrations {
    fn for_backend(self, backend: Backend) -> &'static Migrator {
        match backend {
            Backend::Sqlite => self.sqlite,
            Backend::Postgres => self.postgres,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot open the {service} store: {source}")]
    Open {
        service: ServiceKind,
        source: sqlx::Error,
    },
    #[error("cannot migrate the {service} store: {source}")]
    Migrate {
        service: ServiceKind,
        source: sqlx::migrate::MigrateError,
    },
    #[error(
        "the {service} store lacks migration(s) {missing:?}: run `sentinel migrate` (migrate_on_start is off)"
    )]
    Pending {
        service: ServiceKind,
        missing: Vec<i64>,
    },
}

/// A pool of connections to one service's store, migrated and ready.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    service: ServiceKind,
    /// PostgreSQL: where a connection of its own can `LISTEN` for other replicas' commits.
    url: Option<Secret>,
}

/// How long a writer waits for SQLite's write lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What opening a store may do to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Access {
    /// Create the file or schema if missing (then migrate).
    Create,
    /// Use what a migration step made; change nothing about the schema.
    Existing,
    /// Read only: an auditor's verification must not change what it verifies.
    ReadOnly,
}

impl Store {
    /// Opens the store, creating the SQLite file or the PostgreSQL schema if missing, and
    /// applies the service's pending migrations.
    pub async fn open(
        location: &StoreLocation,
        service: ServiceKind,
        migrations: Migrations,
    ) -> Result<Store, StoreError> {
        let store = Store::connect(location, service, Access::Create).await?;
        migrations
            .for_backend(store.backend)
            .run(&store.pool)
            .await
            .map_err(|source| StoreError::Migrate { service, source })?;
        Ok(store)
    }

    /// Opens a store that a separate step (`sentinel migrate`, a Kubernetes Job) migrated:
    /// nothing is created or changed; a schema older than `migrations` is refused, naming the
    /// missing versions. Replicas starting at once then never race to change the schema.
    pub async fn open_migrated(
        location: &StoreLocation,
        service: ServiceKind,
        migrations: Migrations,
    ) -> Result<Store, StoreError> {
        if let StoreLocation::Sqlite { path } = location
            && !path.is_file()
        {
            let all = migrations.for_backend(Backend::Sqlite).iter();
            return Err(StoreError::Pending {
                service,
                missing: all.map(|m| m.version).collect(),
            });
        }
        let store = Store::connect(location, service, Access::Existing).await?;
        let applied = store.applied_migrations().await.unwrap_or_default();
        let missing: Vec<i64> = migrations
            .for_backend(store.backend)
            .iter()
            .map(|m| m.version)
            .filter(|v| !applied.contains(v))
            .collect();
        if !missing.is_empty() {
            store.close().await;
            return Err(StoreError::Pending { service, missing });
        }
        Ok(store)
    }

    /// Opens an existing store without migrating or writing anything, for tools that only
    /// read (an auditor's verification must not change what it verifies).
    pub async fn open_read_only(
        location: &StoreLocation,
        service: ServiceKind,
    ) -> Result<Store, StoreError> {
        Store::connect(location, service, Access::ReadOnly).await
    }

    /// The one place a store's pool is made, for each backend and access.
    async fn connect(
        location: &StoreLocation,
        service: ServiceKind,
        access: Access,
    ) -> Result<Store, StoreError> {
        install_drivers();
        let open_err = |source| StoreError::Open { service, source };
        let (pool, url) = match location {
            StoreLocation::Sqlite { path } => {
                let mode = match access {
                    Access::Create => {
                        create_data_dir(path)?;
                        "rwc"
                    }
                    Access::Existing => "rw",
                    Access::ReadOnly if !path.is_file() => {
                        return Err(open_err(sqlx::Error::Configuration(
                            format!("no store at {}", path.display()).into(),
                        )));
                    }
                    Access::ReadOnly => "ro",
                };
                let url = format!("sqlite://{}?mode={mode}", path.display());
                let pool = if access == Access::ReadOnly {
                    let options = AnyConnectOptions::from_str(&url).map_err(open_err)?;
                    AnyPoolOptions::new()
                        .max_connections(2)
                        .connect_with(options)
                        .await
                } else {
                    sqlite_pool(&url).await
                };
                (pool.map_err(open_err)?, None)
            }
            StoreLocation::Postgres { url, schema } => {
                if access == Access::Create {
                    create_schema(url, schema).await.map_err(open_err)?;
                }
                let pool = postgres_pool(url, schema).await.map_err(open_err)?;
                (pool, Some(Secret(url.clone())))
            }
        };
        Ok(Store {
            pool,
            backend: location.backend(),
            service,
            url,
        })
    }

    /// A transaction that writes alone. SQLite takes its write lock at `BEGIN IMMEDIATE`, so two
    /// writers never both read a state before changing it; PostgreSQL starts a plain
    /// transaction, to which the caller adds the table or row lock its change needs.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// A read-only transaction that sees the store as it was at one instant, however long it
    /// reads and whatever is committed meanwhile: PostgreSQL's REPEATABLE READ; on SQLite (WAL)
    /// a deferred transaction, whose first read fixes the snapshot every later read sees.
    pub async fn begin_snapshot(
        &self,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN DEFERRED").await,
            Backend::Postgres => {
                self.pool
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await
            }
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn service(&self) -> ServiceKind {
        self.service
    }

    /// PostgreSQL: the URL a dedicated connection uses (e.g. to `LISTEN`); SQLite: `None`.
    pub fn url(&self) -> Option<&Secret> {
        self.url.as_ref()
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        self.pool.execute("SELECT 1").await.map(|_| ())
    }

    /// The versions of the migrations applied to this store, oldest first.
    pub async fn applied_migrations(&self) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&self.pool)
            .await
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// `url` logging in as `user` with `password` (each left out when `None`) instead of the login
/// it named, both percent-encoded as a URL's user and password must be; `None` when `url` is not
/// a `scheme://…` URL. The one place a database login is put into, or taken out of, a URL.
pub fn with_login(url: &str, user: Option<&str>, password: Option<&str>) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let login = match (user, password) {
        (Some(user), Some(password)) => {
            format!("{}:{}@", percent_encoded(user), percent_encoded(password))
        }
        (Some(user), None) => format!("{}@", percent_encoded(user)),
        (None, _) => String::new(),
    };
    Some(format!("{scheme}://{login}{host}"))
}

/// `text` with every byte outside RFC 3986's unreserved characters percent-encoded.
fn percent_encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn install_drivers() {
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
}

async fn sqlite_pool(url: &str) -> Result<AnyPool, sqlx::Error> {
    let options = AnyConnectOptions::from_str(url)?;
    AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                // WAL lets readers proceed beside the one writer; synchronous=FULL makes a
                // committed transaction survive power loss (docs/architecture.md, Storage).
                conn.execute("PRAGMA journal_mode = WAL").await?;
                conn.execute("PRAGMA synchronous = FULL").await?;
                conn.execute("PRAGMA foreign_keys = ON").await?;
                let busy = format!("PRAGMA busy_timeout = {}", SQLITE_BUSY_TIMEOUT.as_millis());
                conn.execute(sqlx::AssertSqlSafe(busy)).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

/// The store's directory and file, only their owner may read (0700, 0600) whatever the umask;
/// an existing one that others may read is warned of (it holds patient data).
fn create_data_dir(path: &std::path::Path) -> Result<(), StoreError> {
    let data_dir = |source, dir: &std::path::Path| StoreError::DataDir {
        path: dir.to_owned(),
        source,
    };
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        private_file::create_private_dir(dir).map_err(|e| data_dir(e, dir))?;
    }
    if path.exists() && private_file::open_to_others(path) {
        tracing::warn!(store = %path.display(), "the store is readable by others: chmod 600 it (and its -wal and -shm files)");
    }
    private_file::create_private_file(path).map_err(|e| data_dir(e, path))
}

async fn create_schema(url: &str, schema: &str) -> Result<(), sqlx::Error> {
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    // `schema` is a service's fixed name, never input.
    conn.execute(sqlx::AssertSqlSafe(format!(
        "CREATE SCHEMA IF NOT EXISTS \"{schema}\""
    )))
    .await?;
    conn.close().await
}

async fn postgres_pool(url: &str, schema: &str) -> Result<AnyPool, sqlx::Error> {
    let options = AnyConnectOptions::from_str(url)?;
    let set_path = format!("SET search_path TO \"{schema}\"");
    AnyPoolOptions::new()
        .max_connections(16)
        .after_connect(move |conn, _meta| {
            let set_path = set_path.clone();
            Box::pin(async move {
                conn.execute(sqlx::AssertSqlSafe(set_path)).await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await
}

#[cfg(test)]
mod tests {
    use super::with_login;

    #[test]
    fn a_login_is_put_into_or_taken_out_of_a_url_encoded() {
        let url = "postgres://owner:old@db:5432/sentinel";
        assert_eq!(
            with_login(url, Some("sentinel_rules"), Some("p@ss:/w")).as_deref(),
            Some("postgres://sentinel_rules:p%40ss%3A%2Fw@db:5432/sentinel")
        );
        assert_eq!(
            with_login(url, Some("reader"), None).as_deref(),
            Some("postgres://reader@db:5432/sentinel")
        );
        assert_eq!(
            with_login(url, None, None).as_deref(),
            Some("postgres://db:5432/sentinel")
        );
        assert_eq!(with_login("db:5432", None, None), None);
    }
}
