use sentinel_platform::ServiceKind;
use sentinel_testkit::{StoreKind, TestSuite};
use tokio_stream::StreamExt;
use tonic_reflection::pb::{v1, v1alpha};

/// The service names a reflection client of protocol module `$pb` (v1 or v1alpha, whose
/// generated types differ only by package) lists.
macro_rules! list_services {
    ($pb:ident, $suite:expr) => {{
        use $pb::{
            ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
            server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        };
        let mut client = ServerReflectionClient::new($suite.channel().await);
        let request = ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        };
        let mut responses = client
            .server_reflection_info(tokio_stream::iter([request]))
            .await
            .unwrap()
            .into_inner();
        match responses.next().await.unwrap().unwrap().message_response {
            Some(MessageResponse::ListServicesResponse(list)) => {
                let mut names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
                names.sort();
                names
            }
            other => panic!("unexpected reflection answer: {other:?}"),
        }
    }};
}

async fn list_v1(suite: &TestSuite) -> Vec<String> {
    list_services!(v1, suite)
}

/// grpcurl 1.8 and many installed clients speak only v1alpha.
async fn list_v1alpha(suite: &TestSuite) -> Vec<String> {
    list_services!(v1alpha, suite)
}

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
    assert_eq!(list_v1(&suite).await, expected(&ServiceKind::ALL));
    assert_eq!(list_v1alpha(&suite).await, expected(&ServiceKind::ALL));
    suite.stop().await;
}

#[tokio::test]
async fn reflection_lists_only_what_a_subset_serves() {
    let services = [ServiceKind::Registry, ServiceKind::Audit];
    let suite = TestSuite::start(StoreKind::Sqlite, &services).await;
    assert_eq!(list_v1(&suite).await, expected(&services));
    suite.stop().await;
}

#[tokio::test]
async fn reflection_describes_the_contracts_by_file() {
    use v1::{
        ServerReflectionRequest, server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
    };
    let suite = TestSuite::start(StoreKind::Sqlite, &ServiceKind::ALL).await;
    let mut client = ServerReflectionClient::new(suite.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol(
            ServiceKind::Audit.grpc_name().to_owned(),
        )),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
        panic!("no file descriptor for the audit service");
    };
    assert!(!files.file_descriptor_proto.is_empty());
    suite.stop().await;
}
