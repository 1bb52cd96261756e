//! Sign-in with the identity provider's tokens at the edges: clock skew within the leeway, the
//! forgeries JWT libraries are known for, tokens when sign-in is off, a provider whose
//! endpoint is down at start.

use sentinel_contract::registry::v1 as pb;
use sentinel_platform::ServiceKind;
use sentinel_testkit::{
    StoreKind, TestSuite,
    idp::{IdentityProvider, NURSES},
};
use tonic::Code;
use tonic_types::StatusExt;

use super::{stores, suite};

async fn signing_in(store: StoreKind, idp: &IdentityProvider, url: Option<String>) -> TestSuite {
    let (mut config, data_dir) =
        TestSuite::prepare(store, &[ServiceKind::Registry, ServiceKind::Audit]).await;
    config.registry.oidc = Some(idp.config(url));
    TestSuite::start_with(config, data_dir).await
}

/// What the registry answers `token` when it lists devices: `Ok` or the refusal's reason.
async fn answer(suite: &TestSuite, token: &str) -> Result<(), String> {
    match suite
        .registry_as(token)
        .await
        .list_devices(pb::ListDevicesRequest::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(status) => {
            assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
            Err(status
                .get_details_error_info()
                .map(|i| i.reason)
                .unwrap_or_default())
        }
    }
}

#[tokio::test]
async fn skew_within_the_leeway_passes_and_known_forgeries_are_refused() {
    let idp = IdentityProvider::new();
    for store in stores() {
        let suite = signing_in(store, &idp, None).await;
        let mut claims = IdentityProvider::claims("nurse-bo", &[NURSES]);
        // Staff role needed to list devices: the provider's nurses are clinicians.
        claims.expires_in = -30;
        assert_eq!(answer(&suite, &idp.token(&claims)).await, Ok(()));
        claims.expires_in = -90;
        assert_eq!(
            answer(&suite, &idp.token(&claims)).await,
            Err("credential_expired".into())
        );
        claims.expires_in = 300;
        claims.not_before_in = Some(30);
        assert_eq!(answer(&suite, &idp.token(&claims)).await, Ok(()));
        claims.not_before_in = None;
        claims.kid = "rs-1".into();
        assert_eq!(
            answer(&suite, &idp.confused(&claims)).await,
            Err("token_unsupported_algorithm".into())
        );
        assert_eq!(
            answer(&suite, &idp.unsigned(&claims)).await,
            Err("token_malformed".into())
        );
        let mut nobody = claims.clone();
        nobody.subject = String::new();
        assert_eq!(
            answer(&suite, &idp.token(&nobody)).await,
            Err("token_missing_claim".into())
        );
    }
}

#[tokio::test]
async fn a_token_is_refused_saying_so_where_sign_in_is_off() {
    let idp = IdentityProvider::new();
    for store in stores() {
        let suite = suite(store).await;
        let token = idp.token(&IdentityProvider::claims("nurse-bo", &[NURSES]));
        assert_eq!(
            answer(&suite, &token).await,
            Err("sign_in_not_configured".into())
        );
    }
}

#[tokio::test]
async fn a_provider_down_at_start_does_not_stop_the_suite_and_is_read_once_it_answers() {
    let mut idp = IdentityProvider::new();
    // An endpoint that is not there yet: the port of a listener just closed.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let store = stores().next().expect("a store");
    let suite = signing_in(store, &idp, Some(format!("http://{addr}/certs"))).await;
    let token = idp.token(&IdentityProvider::claims("nurse-bo", &[NURSES]));
    assert_eq!(
        answer(&suite, &token).await,
        Err("token_unknown_key".into())
    );
    // Sentinel's own credentials work meanwhile.
    assert_eq!(answer(&suite, &suite.admin_token()).await, Ok(()));
    // Once the provider answers, its keys are read within seconds, without a restart.
    idp.serve_at(addr).await;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    while answer(&suite, &token).await.is_err() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the keys were never read"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}
