//! Mutual TLS, configured by file paths: a client with a certificate from the configured CA gets
//! in (and the suite's own internal calls run over TLS too); anything else is refused.

use sentinel_contract::registry::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    Bearer, StoreKind, TestSuite,
    registry::spec,
    tls::{Pki, connect, health},
};
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn mutual_tls_admits_only_clients_with_a_certificate_from_the_ca() {
    let pki = Pki::generate();
    let stranger = Pki::generate();
    let (mut config, data) = TestSuite::prepare(
        StoreKind::Sqlite,
        &[ServiceKind::Registry, ServiceKind::Audit],
    )
    .await;
    config.tls = pki.install(data.path());
    let suite = TestSuite::start_with(config, data).await;
    let addr = suite.addr();

    assert_eq!(
        health(addr, Some(pki.client(Some(&pki)))).await,
        Ok(ServingStatus::Serving)
    );
    // A change that is audited through the suite's own TLS client succeeds.
    let channel = connect(addr, Some(pki.client(Some(&pki)))).await.unwrap();
    let mut registry = pb::device_registry_client::DeviceRegistryClient::with_interceptor(
        channel,
        Bearer::new(&suite.admin_token()),
    );
    registry
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(spec("SN-TLS")),
        })
        .await
        .expect("registered over mTLS");

    assert!(
        health(addr, Some(pki.client(None))).await.is_err(),
        "no client certificate"
    );
    assert!(
        health(addr, Some(pki.client(Some(&stranger))))
            .await
            .is_err(),
        "a stranger's certificate"
    );
    assert!(health(addr, None).await.is_err(), "plaintext");
    suite.stop().await;
}

#[test]
fn tls_keys_are_checked_together() {
    let err = sentinel_platform::Config::load(
        None,
        vec![(
            "SENTINEL_TLS__CERT_FILE".to_owned(),
            "/x/cert.pem".to_owned(),
        )],
        sentinel_platform::config::FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "tls.key_file");
}

#[tokio::test]
async fn server_only_tls_serves_clients_without_a_certificate_and_trusts_its_bundle() {
    let pki = Pki::generate();
    let (mut config, data) = TestSuite::prepare(
        StoreKind::Sqlite,
        &[ServiceKind::Registry, ServiceKind::Audit],
    )
    .await;
    config.tls = pki.install_server_only(data.path());
    let suite = TestSuite::start_with(config, data).await;
    let addr = suite.addr();
    assert_eq!(
        health(addr, Some(pki.client(None))).await,
        Ok(ServingStatus::Serving)
    );
    // The registration is audited through the suite's own client, which trusts the bundle.
    let channel = connect(addr, Some(pki.client(None))).await.unwrap();
    let mut registry = pb::device_registry_client::DeviceRegistryClient::with_interceptor(
        channel,
        Bearer::new(&suite.admin_token()),
    );
    registry
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(spec("SN-TLS-SERVER")),
        })
        .await
        .expect("registered over server-only TLS");
    assert!(health(addr, None).await.is_err(), "plaintext");
    suite.stop().await;
}

#[test]
fn a_trust_bundle_goes_with_this_process_speaking_tls() {
    let err = sentinel_platform::Config::load(
        None,
        vec![(
            "SENTINEL_TLS__TRUST_FILE".to_owned(),
            "/x/ca.pem".to_owned(),
        )],
        sentinel_platform::config::FlagOverrides::default(),
    )
    .unwrap_err();
    assert_eq!(err.key, "tls.trust_file");
}
