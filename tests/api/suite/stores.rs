use sentinel_platform::{Backend, ServiceKind};
use sentinel_testkit::{StoreKind, TestSuite};
use tonic_health::pb::health_check_response::ServingStatus;

use super::stores;

/// The versions of the migrations `kind` ships for `backend`.
fn shipped(kind: ServiceKind, backend: Backend) -> Vec<i64> {
    let migrations = sentinel::suite::migrations(kind);
    let migrator = match backend {
        Backend::Sqlite => migrations.sqlite,
        Backend::Postgres => migrations.postgres,
    };
    migrator.iter().map(|m| m.version).collect()
}

#[tokio::test]
async fn each_service_owns_a_migrated_store_on_every_backend() {
    for store in stores() {
        let suite = TestSuite::start(store, &ServiceKind::ALL).await;
        for (kind, service_store) in suite.running().services() {
            let expected = match store {
                StoreKind::Sqlite => Backend::Sqlite,
                StoreKind::Postgres => Backend::Postgres,
            };
            assert_eq!(service_store.backend(), expected);
            assert_eq!(
                service_store.applied_migrations().await.unwrap(),
                shipped(*kind, expected),
                "{kind} on {}",
                store.name()
            );
        }
        if store == StoreKind::Sqlite {
            for kind in ServiceKind::ALL {
                let file = suite.data_dir().join(format!("{}.db", kind.name()));
                assert!(file.is_file(), "{} missing", file.display());
            }
        }
        suite.stop().await;
    }
}

#[tokio::test]
async fn postgres_keeps_each_service_in_its_own_schema() {
    if !StoreKind::Postgres.available() {
        return;
    }
    let suite = TestSuite::start(StoreKind::Postgres, &ServiceKind::ALL).await;
    let (_, audit) = &suite.running().services()[3];
    let schemas: Vec<String> = sqlx::query_scalar(
        "SELECT table_schema::text FROM information_schema.tables \
         WHERE table_name = '_sqlx_migrations' ORDER BY table_schema",
    )
    .fetch_all(audit.pool())
    .await
    .unwrap();
    assert_eq!(schemas, ["audit", "ingestion", "registry", "rules"]);
    suite.stop().await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_with_full_sync() {
    let suite = TestSuite::start(StoreKind::Sqlite, &[ServiceKind::Audit]).await;
    let (_, audit) = &suite.running().services()[0];
    let mut conn = audit.pool().acquire().await.unwrap();
    let journal: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(journal, "wal");
    assert_eq!(synchronous, 2, "2 is FULL");
    drop(conn);
    suite.stop().await;
}

#[tokio::test]
async fn a_restart_on_the_same_store_applies_nothing_twice() {
    for store in stores() {
        let (config, data_dir) = TestSuite::prepare(store, &ServiceKind::ALL).await;
        let first = TestSuite::start_with(config.clone(), data_dir).await;
        let data_dir = first.stop_keeping_data().await;
        let second = TestSuite::start_with(config, data_dir).await;
        assert_eq!(second.health("").await.unwrap(), ServingStatus::Serving);
        for (kind, service_store) in second.running().services() {
            assert_eq!(
                service_store.applied_migrations().await.unwrap(),
                shipped(*kind, service_store.backend())
            );
        }
        second.stop().await;
    }
}

#[tokio::test]
async fn with_migrate_on_start_off_a_store_must_have_been_migrated_first() {
    for store in stores() {
        let (mut config, data_dir) = TestSuite::prepare(store, &ServiceKind::ALL).await;
        config.migrate_on_start = false;
        let refused = sentinel::Suite::start(&config).await.unwrap_err();
        assert!(
            refused.to_string().contains("sentinel migrate"),
            "{}: {refused}",
            store.name()
        );
        // The separate step (`sentinel migrate`, the Kubernetes Job), then the service.
        let migrated = sentinel::suite::open_stores(&sentinel_platform::Config {
            migrate_on_start: true,
            ..config.clone()
        })
        .await
        .unwrap();
        for (_, opened) in migrated {
            opened.close().await;
        }
        let suite = TestSuite::start_with(config, data_dir).await;
        assert_eq!(suite.health("").await.unwrap(), ServingStatus::Serving);
        suite.stop().await;
    }
}
