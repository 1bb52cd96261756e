use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    StoreKind, TestSuite,
    reflection::{Version, files_containing, list_services},
};

fn expected(services: &[ServiceKind]) -> Vec<String> {
    let mut names: Vec<String> = services
        .iter()
        .map(|kind| kind.grpc_name().to_owned())
        .chain([
            "grpc.health.v1.Health".to_owned(),
            "grpc.reflection.v1.ServerReflection".to_owned(),
            "grpc.reflection.v1alpha.ServerReflection".to_owned(),
        ])
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn reflection_lists_every_service_in_both_protocol_versions() {
    let suite = TestSuite::start(StoreKind::Sqlite, &ServiceKind::ALL).await;
    for version in [Version::V1, Version::V1Alpha] {
        assert_eq!(
            list_services(suite.addr(), version).await.unwrap(),
            expected(&ServiceKind::ALL),
            "{version:?}"
        );
    }
    suite.stop().await;
}

#[tokio::test]
async fn reflection_lists_only_what_a_subset_serves() {
    let services = [ServiceKind::Registry, ServiceKind::Audit];
    let suite = TestSuite::start(StoreKind::Sqlite, &services).await;
    assert_eq!(
        list_services(suite.addr(), Version::V1).await.unwrap(),
        expected(&services)
    );
    suite.stop().await;
}

#[tokio::test]
async fn reflection_describes_each_contract_by_file() {
    let suite = TestSuite::start(StoreKind::Sqlite, &ServiceKind::ALL).await;
    for kind in ServiceKind::ALL {
        let files = files_containing(suite.addr(), kind.grpc_name())
            .await
            .unwrap();
        assert_eq!(
            files.first().map(String::as_str),
            Some(format!("sentinel/{0}/v1/{0}.proto", kind.name()).as_str())
        );
    }
    let status = files_containing(suite.addr(), "sentinel.nope.v1.Nope")
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::NotFound);
    suite.stop().await;
}
