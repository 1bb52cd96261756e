//! Steps of signing in with the hospital's identity provider, and of credentials that expire.

use std::time::Duration;

use cucumber::{given, then, when};
use sentinel_contract::{ingestion::v1 as ingestion, registry::v1 as registry, rules::v1 as rules};
use sentinel_platform::{ServiceKind, time::now_micros};
use sentinel_testkit::{
    TestSuite,
    idp::{Claims, IdentityProvider},
    registry::{admin, at},
};
use tonic_types::StatusExt;

use super::rules::{alert_of, suite};
use crate::world::{SuiteWorld, store};

/// Starts `services` trusting a fresh identity provider, its keys read from a file or from its
/// endpoint.
async fn start_signing_in(world: &mut SuiteWorld, services: &[ServiceKind], endpoint: bool) {
    let mut idp = IdentityProvider::new();
    let url = if endpoint {
        Some(idp.serve().await)
    } else {
        None
    };
    let (mut config, data_dir) = TestSuite::prepare(store(), services).await;
    config.registry.oidc = Some(idp.config(url));
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
    world.sign_in.idp = Some(idp);
}

fn idp(world: &SuiteWorld) -> &IdentityProvider {
    world.sign_in.idp.as_ref().expect("an identity provider")
}

#[given("the suite runs with all services, signing in with the hospital's identity provider")]
async fn all_signing_in(world: &mut SuiteWorld) {
    start_signing_in(world, &ServiceKind::ALL, false).await;
}

#[given(
    expr = "the suite runs with the services {string}, signing in with the hospital's identity provider"
)]
async fn some_signing_in(world: &mut SuiteWorld, services: String) {
    let services: Vec<ServiceKind> = services
        .split(',')
        .map(|s| s.parse().expect("a service"))
        .collect();
    start_signing_in(world, &services, false).await;
}

#[given(
    regex = r"^the suite runs with all services, reading the identity provider's keys from its (endpoint|file)$"
)]
async fn keys_from(world: &mut SuiteWorld, source: String) {
    start_signing_in(world, &ServiceKind::ALL, source == "endpoint").await;
}

/// `name` presents `token` from now on.
fn signs_in_with(world: &mut SuiteWorld, name: String, token: String) {
    world.rules.secrets.insert(name.clone(), token);
    world.rules.clinician = name;
}

#[given(
    regex = r#"^"([^"]+)" signs in with an? (ES256|RS256) token of the identity provider as a member of "([^"]+)"$"#
)]
async fn signs_in(world: &mut SuiteWorld, name: String, alg: String, group: String) {
    let mut claims = IdentityProvider::claims(&name, &[&group]);
    claims.kid = if alg == "RS256" { "rs-1" } else { "es-1" }.into();
    let token = idp(world).token(&claims);
    signs_in_with(world, name, token);
}

#[when(expr = "the identity provider publishes a new key {string}")]
async fn rotates(world: &mut SuiteWorld, kid: String) {
    world
        .sign_in
        .idp
        .as_mut()
        .expect("an identity provider")
        .rotate(&kid);
}

#[when(expr = "{string} signs in with a token signed by {string} as a member of {string}")]
async fn signs_in_by_key(world: &mut SuiteWorld, name: String, kid: String, group: String) {
    let mut claims = IdentityProvider::claims(&name, &[&group]);
    claims.kid = kid;
    let token = idp(world).token(&claims);
    signs_in_with(world, name, token);
}

async fn list_open_alerts(world: &SuiteWorld, token: &str) -> Result<(), tonic::Status> {
    suite(world)
        .rules_as(token)
        .await
        .list_alerts(rules::ListAlertsRequest::default())
        .await
        .map(|_| ())
}

#[when(expr = "{string} lists the open alerts")]
async fn lists_alerts(world: &mut SuiteWorld, name: String) {
    let outcome = list_open_alerts(world, &world.rules.secrets[&name]).await;
    world.sign_in.outcome = Some(outcome);
}

#[then(expr = "within {int} seconds {string} lists the open alerts")]
async fn eventually_lists(world: &mut SuiteWorld, seconds: u64, name: String) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        match list_open_alerts(world, &world.rules.secrets[&name]).await {
            Ok(()) => return,
            Err(status) if tokio::time::Instant::now() < deadline => {
                assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(status) => panic!("still refused after {seconds} s: {status:?}"),
        }
    }
}

/// Claims of `name` with the fault a scenario names, and whether a key the provider never
/// published signs them.
fn faulty(name: &str, fault: &str) -> (Claims, bool) {
    let mut claims = IdentityProvider::claims(name, &[sentinel_testkit::idp::NURSES]);
    let mut forged = false;
    match fault {
        "expired 5 minutes ago" => claims.expires_in = -300,
        "becomes valid in 5 minutes" => claims.not_before_in = Some(300),
        "is meant for another audience" => claims.audience = "another-app".into(),
        "was issued by another issuer" => claims.issuer = "https://idp.elsewhere.test".into(),
        "is signed by a key the provider never published" => {
            claims.kid = "never-published".into();
            forged = true;
        }
        "is signed by a forgery of a published key" => forged = true,
        other => panic!("no fault {other:?} in these scenarios"),
    }
    (claims, forged)
}

#[when(regex = r#"^a caller lists the open alerts with a token of "([^"]+)" that (.+)$"#)]
async fn lists_with_faulty_token(world: &mut SuiteWorld, name: String, fault: String) {
    let (claims, forged) = faulty(&name, &fault);
    let token = if forged {
        idp(world).forged(&claims)
    } else {
        idp(world).token(&claims)
    };
    let outcome = list_open_alerts(world, &token).await;
    world.sign_in.token = token;
    world.sign_in.outcome = Some(outcome);
}

/// The reason of a refusal's ErrorInfo.
fn reason(status: &tonic::Status) -> String {
    status
        .get_details_error_info()
        .map(|info| info.reason)
        .unwrap_or_default()
}

#[then(regex = r#"^that is (answered|refused as ([A-Z_]+))(?: for the reason "([^"]+)")?$"#)]
async fn that_is(world: &mut SuiteWorld, outcome: String, code: String, why: String) {
    let got = world.sign_in.outcome.take().expect("a call was made");
    match (outcome.as_str(), got) {
        ("answered", Ok(())) => {}
        ("answered", Err(status)) => panic!("refused: {status:?}"),
        (_, Ok(())) => panic!("answered, expected {code}"),
        (_, Err(status)) => {
            assert_eq!(
                format!("{:?}", status.code()).to_uppercase(),
                code.replace('_', ""),
                "{status:?}"
            );
            if !why.is_empty() {
                assert_eq!(reason(&status), why, "{status:?}");
            }
        }
    }
}

#[then(
    expr = "the call is refused as UNAUTHENTICATED for the reason {string}, and the token is not in the answer"
)]
async fn refused_saying_why(world: &mut SuiteWorld, why: String) {
    let status = match world.sign_in.outcome.take().expect("a call was made") {
        Ok(()) => panic!("the token was accepted"),
        Err(status) => status,
    };
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), why, "{status:?}");
    // No part of the token (its signature in particular) comes back.
    let answer = format!(
        "{} {:?} {:?}",
        status.message(),
        status.details(),
        status.metadata()
    );
    for part in world.sign_in.token.split('.') {
        assert!(!answer.contains(&part[..part.len().min(16)]), "{answer}");
    }
}

#[then(expr = "the audit log names {string} as the actor of {string} on the alert of {string}")]
async fn actor_of(world: &mut SuiteWorld, actor: String, action: String, rule: String) {
    let alert = alert_of(world, &rule).await;
    let records = sentinel_testkit::audit::about(suite(world), &alert.id).await;
    let record = records
        .iter()
        .find(|r| r.action == action)
        .unwrap_or_else(|| panic!("no {action} in {records:?}"));
    let who = record.actor.as_ref().expect("an actor");
    assert_eq!(who.id, actor);
    assert_eq!(who.role, "clinician");
}

#[when(
    regex = r#"^"([^"]+)" with a token of the identity provider (?:as a member of "([^"]+)"|that (expired 5 minutes ago)) lists the readings of patient "([^"]+)" on that server$"#
)]
async fn lists_readings_on_edge(
    world: &mut SuiteWorld,
    name: String,
    group: String,
    fault: String,
    patient: String,
) {
    let token = if fault.is_empty() {
        idp(world).token(&IdentityProvider::claims(&name, &[&group]))
    } else {
        idp(world).token(&faulty(&name, &fault).0)
    };
    let edge = world
        .split
        .edge
        .as_ref()
        .expect("ingestion in a server of its own");
    let outcome = edge
        .ingestion_as(&token)
        .await
        .list_readings(ingestion::ListReadingsRequest {
            patient: sentinel_testkit::registry::patient(&patient),
            ..Default::default()
        })
        .await
        .map(|_| ());
    world.sign_in.outcome = Some(outcome);
}

#[when(expr = "the admin issues {string} the role {string} expiring in {int} seconds")]
async fn issues_expiring(world: &mut SuiteWorld, name: String, role: String, seconds: i64) {
    let mut client = admin(suite(world)).await;
    let answer = client
        .issue_credential(registry::IssueCredentialRequest {
            kind: registry::PrincipalKind::User.into(),
            principal_id: name.clone(),
            roles: vec![role],
            expires_at: at(now_micros() + seconds * 1_000_000),
        })
        .await;
    match answer {
        Ok(issued) => {
            let issued = issued.into_inner();
            let id = issued.credential.expect("a credential").id;
            world.registry.credentials.insert(name, (id, issued.secret));
            world.registry.refused = None;
        }
        Err(status) => world.registry.refused = Some(status),
    }
}

#[then(expr = "the credential of {string} is listed with its expiry")]
async fn listed_with_expiry(world: &mut SuiteWorld, name: String) {
    let listed = admin(suite(world))
        .await
        .list_credentials(registry::ListCredentialsRequest {
            principal_id: name,
            include_revoked: false,
        })
        .await
        .expect("listed")
        .into_inner();
    let expires = listed.credentials[0].expires_at.expect("an expiry");
    let left = expires.seconds - now_micros() / 1_000_000;
    assert!((0..=4).contains(&left), "{expires:?}");
}

#[then(expr = "{string} listing devices is refused as UNAUTHENTICATED for the reason {string}")]
async fn listing_refused(world: &mut SuiteWorld, name: String, why: String) {
    let status = suite(world)
        .registry_as(&world.registry.credentials[&name].1)
        .await
        .list_devices(registry::ListDevicesRequest::default())
        .await
        .expect_err("refused");
    assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    assert_eq!(reason(&status), why, "{status:?}");
}
