use sentinel_platform::ServiceKind;
use sentinel_testkit::TestSuite;
use tonic_health::pb::health_check_response::ServingStatus;

use super::stores;

#[tokio::test]
async fn every_service_is_serving_on_every_store() {
    for store in stores() {
        let suite = TestSuite::start(store, &ServiceKind::ALL).await;
        for kind in ServiceKind::ALL {
            assert_eq!(
                suite.health(kind.grpc_name()).await.unwrap(),
                ServingStatus::Serving,
                "{} on {}",
                kind,
                store.name()
            );
        }
        assert_eq!(suite.health("").await.unwrap(), ServingStatus::Serving);
        suite.stop().await;
    }
}

#[tokio::test]
async fn a_subset_serves_only_its_services() {
    for store in stores() {
        let suite = TestSuite::start(store, &[ServiceKind::Registry]).await;
        assert_eq!(
            suite
                .health(ServiceKind::Registry.grpc_name())
                .await
                .unwrap(),
            ServingStatus::Serving
        );
        for kind in [
            ServiceKind::Ingestion,
            ServiceKind::Rules,
            ServiceKind::Audit,
        ] {
            let status = suite.health(kind.grpc_name()).await.unwrap_err();
            assert_eq!(
                status.code(),
                tonic::Code::NotFound,
                "{kind} on {}",
                store.name()
            );
        }
        suite.stop().await;
    }
}

#[tokio::test]
async fn an_unknown_service_name_is_not_found() {
    let suite = TestSuite::start(sentinel_testkit::StoreKind::Sqlite, &ServiceKind::ALL).await;
    let status = suite.health("sentinel.alerts.v1.Nope").await.unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    suite.stop().await;
}

#[tokio::test]
async fn health_turns_not_serving_when_a_store_stops_answering() {
    let (mut config, data_dir) = TestSuite::prepare(
        sentinel_testkit::StoreKind::Sqlite,
        &[ServiceKind::Registry],
    )
    .await;
    config.health.check_interval_ms = 20;
    let suite = TestSuite::start_with(config, data_dir).await;
    assert_eq!(suite.health("").await.unwrap(), ServingStatus::Serving);

    let (_, store) = &suite.running().services()[0];
    store.close().await;
    let mut status = ServingStatus::Serving;
    for _ in 0..100 {
        status = suite
            .health(ServiceKind::Registry.grpc_name())
            .await
            .unwrap();
        if status == ServingStatus::NotServing {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(status, ServingStatus::NotServing);
    assert_eq!(suite.health("").await.unwrap(), ServingStatus::NotServing);
}
