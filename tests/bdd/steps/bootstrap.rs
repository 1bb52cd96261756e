//! Steps of `sentinel bootstrap`: the real binary writes a deployment's identities and keys,
//! and services start from those files as their Deployments mount them.

use std::path::{Path, PathBuf};

use cucumber::{given, then, when};
use sentinel_contract::registry::v1 as registry;
use sentinel_platform::{Config, ServiceKind};
use sentinel_testkit::{TestSuite, process};

use crate::world::{SuiteWorld, store};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

/// Runs `sentinel bootstrap` into `dir`, with `extra` flags; it must succeed.
fn bootstrap(dir: &Path, extra: &[&str]) {
    let mut args = vec![
        "bootstrap".to_owned(),
        "--out".to_owned(),
        dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let (code, out) = process::run_to_end(Path::new(SENTINEL), &args);
    assert_eq!(code, Some(0), "sentinel bootstrap failed: {out}");
}

fn files(world: &SuiteWorld) -> PathBuf {
    world
        .split
        .bootstrap
        .clone()
        .expect("a bootstrapped deployment")
}

/// The credential `principal` holds in the bootstrap directory.
fn token(dir: &Path, principal: &str) -> String {
    let file = match principal.strip_prefix("sentinel-") {
        Some(service) => format!("{service}.token"),
        None => format!("{principal}.token"),
    };
    std::fs::read_to_string(dir.join(file))
        .expect("a bootstrap credential")
        .trim()
        .to_owned()
}

/// `config` as the manifests set it: each secret a file in the bootstrap directory.
fn from_files(mut config: Config, dir: &Path, own: ServiceKind) -> Config {
    config.service_token_file = Some(dir.join(format!("{}.token", own.name())));
    if config.services.contains(&ServiceKind::Registry) {
        config.registry.identities_file = Some(dir.join("identities.toml"));
    }
    if config.services.contains(&ServiceKind::Audit) {
        config.audit.signing_key_file = Some(dir.join("audit-signing.key"));
    }
    config
        .read_secret_files()
        .expect("the mounted secrets are readable");
    config
}

#[given("a deployment bootstrapped with `sentinel bootstrap`")]
async fn bootstrapped(world: &mut SuiteWorld) {
    bootstrapped_with(world, String::new()).await;
}

#[given(regex = r"^a deployment bootstrapped with `sentinel bootstrap (.+)`$")]
async fn bootstrapped_with(world: &mut SuiteWorld, flags: String) {
    let (config, data_dir) =
        TestSuite::prepare(store(), &[ServiceKind::Registry, ServiceKind::Audit]).await;
    // The suite's data directory holds the files: its admin is the bootstrap's admin.
    let flags: Vec<&str> = flags.split_whitespace().collect();
    bootstrap(data_dir.path(), &flags);
    world.split.bootstrap = Some(data_dir.path().to_owned());
    world.split.stopped = Some((config, data_dir));
}

#[then(
    expr = "its tls directory holds exactly {string}, and the CA's key lies beside it, each readable by its owner only"
)]
async fn tls_files(world: &mut SuiteWorld, expected: String) {
    use std::os::unix::fs::PermissionsExt;
    let dir = files(world);
    let mut listed: Vec<String> = std::fs::read_dir(dir.join("tls"))
        .expect("a tls directory")
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    listed.sort();
    assert_eq!(listed.join(","), expected);
    let mut all: Vec<PathBuf> = listed.iter().map(|f| dir.join("tls").join(f)).collect();
    all.push(dir.join("tls-ca.key"));
    for file in all {
        let mode = std::fs::metadata(&file)
            .expect("there")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{} is open to others", file.display());
    }
}

#[when(
    "the registry and the audit log run in one server from the bootstrap files, with mutual TLS from its tls directory"
)]
async fn core_over_tls(world: &mut SuiteWorld) {
    let dir = files(world).join("tls");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("a bootstrap PEM");
    world.pki = Some(sentinel_testkit::tls::Pki {
        ca: read("ca.crt"),
        cert: read("tls.crt"),
        key: read("tls.key"),
    });
    let (mut config, data_dir) = world
        .split
        .stopped
        .take()
        .expect("a bootstrapped deployment");
    config.tls = sentinel_platform::config::TlsConfig {
        cert_file: Some(dir.join("tls.crt")),
        key_file: Some(dir.join("tls.key")),
        ca_file: Some(dir.join("ca.crt")),
        trust_file: None,
        server_name: "localhost".into(),
        allow_plaintext: false,
    };
    let config = from_files(config, data_dir.path(), ServiceKind::Registry);
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[given("the registry and the audit log run in one server from the bootstrap files")]
async fn core_from_files(world: &mut SuiteWorld) {
    let (config, data_dir) = world
        .split
        .stopped
        .take()
        .expect("a bootstrapped deployment");
    let config = from_files(config, data_dir.path(), ServiceKind::Registry);
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

#[given(
    "reading ingestion runs in a server of its own from the bootstrap files, with the suite as its peers"
)]
async fn edge_from_files(world: &mut SuiteWorld) {
    let core = world.suite.as_ref().expect("a running suite");
    let (mut config, data_dir) = TestSuite::prepare(store(), &[ServiceKind::Ingestion]).await;
    let here = format!("http://{}", core.addr());
    config.peers.registry = Some(here.clone());
    config.peers.audit = Some(here);
    config.health.check_interval_ms = 100;
    let config = from_files(config, &files(world), ServiceKind::Ingestion);
    world.split.edge = Some(TestSuite::start_with(config, data_dir).await);
}

#[when("`sentinel bootstrap` runs again on the same directory")]
async fn again(world: &mut SuiteWorld) {
    let dir = files(world);
    world.split.first = ["registry", "ingestion", "rules", "audit"]
        .iter()
        .map(|name| token(&dir, &format!("sentinel-{name}")))
        .collect();
    bootstrap(&dir, &[]);
}

#[when("`sentinel bootstrap --rotate` runs on the same directory")]
async fn rotate(world: &mut SuiteWorld) {
    bootstrap(&files(world), &["--rotate"]);
}

#[when("the suite restarts from the bootstrap files")]
async fn restart(world: &mut SuiteWorld) {
    let core = world.suite.take().expect("a running suite");
    let mut config = core.config().clone();
    config.listen = core.addr();
    // Read afresh from the (possibly rotated) files, as a restarted pod does.
    config.service_token = None;
    let data_dir = core.stop_keeping_data().await;
    let config = from_files(config, data_dir.path(), ServiceKind::Registry);
    world.suite = Some(TestSuite::start_with(config, data_dir).await);
}

/// Who the registry says `bearer` is, asked with the registry's own bootstrap credential.
async fn authenticate(
    world: &SuiteWorld,
    bearer: &str,
) -> Result<registry::Principal, tonic::Status> {
    let core = world.suite.as_ref().expect("a running suite");
    core.registry_as(&token(&files(world), "sentinel-registry"))
        .await
        .authenticate(registry::AuthenticateRequest {
            bearer: bearer.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

#[then(expr = "the registry holds the bootstrap credentials of {string} as valid")]
async fn valid(world: &mut SuiteWorld, principals: String) {
    for principal in principals.split(',') {
        let answer = authenticate(world, &token(&files(world), principal))
            .await
            .unwrap_or_else(|status| panic!("{principal}: {status:?}"));
        assert_eq!(answer.id, principal);
    }
}

#[then("the service credentials of the first bootstrap are still valid")]
async fn first_valid(world: &mut SuiteWorld) {
    for bearer in &world.split.first {
        authenticate(world, bearer)
            .await
            .unwrap_or_else(|status| panic!("{status:?}"));
    }
}

#[then("the service credentials of the first bootstrap are refused as revoked")]
async fn first_revoked(world: &mut SuiteWorld) {
    for bearer in &world.split.first {
        let status = authenticate(world, bearer).await.expect_err("revoked");
        assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
    }
}
