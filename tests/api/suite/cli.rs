//! The `sentinel` binary as a newcomer runs it.

use std::{ffi::OsString, path::Path, process::Command};

use sentinel_platform::ServiceKind;
use sentinel_testkit::process::{self, Started};
use tonic_health::pb::health_check_response::ServingStatus;

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

/// Starts `sentinel` with `args` and `env`, expecting it to refuse; returns (status, stderr).
async fn refused(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let data = tempfile::tempdir().unwrap();
    let mut argv: Vec<OsString> = args.iter().map(OsString::from).collect();
    argv.extend(["--data-dir".into(), data.path().into()]);
    let env: Vec<(String, String)> = env
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    match process::start(Path::new(SENTINEL), &argv, &env, process::free_address()).await {
        Started::Exited { code, stderr } => (code, stderr),
        Started::Serving(_) => panic!("sentinel served with {args:?} {env:?}"),
    }
}

fn assert_one_line_naming(stderr: &str, expected: &[&str]) {
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    for part in expected {
        assert!(stderr.contains(part), "{part:?} missing from: {stderr}");
    }
}

#[tokio::test]
async fn a_bad_flag_value_exits_non_zero_with_one_line_naming_the_key() {
    let (status, stderr) = refused(&["serve", "--listen", "not-an-address"], &[]).await;
    assert_eq!(status, Some(2));
    assert_one_line_naming(&stderr, &["`listen`", "--listen", "expected IP:PORT"]);
}

#[tokio::test]
async fn an_unknown_flag_exits_non_zero_with_one_line_naming_it() {
    let (status, stderr) = refused(&["serve", "--lisen", "127.0.0.1:1"], &[]).await;
    assert_eq!(status, Some(2));
    assert_one_line_naming(&stderr, &["--lisen"]);
}

#[tokio::test]
async fn a_bad_environment_value_exits_non_zero_with_one_line_naming_the_variable() {
    let (status, stderr) = refused(&["serve"], &[("SENTINEL_SERVICES", "registry,alerts")]).await;
    assert_eq!(status, Some(2));
    assert_one_line_naming(
        &stderr,
        &[
            "`services`",
            "SENTINEL_SERVICES",
            "unknown service `alerts`",
        ],
    );
}

#[tokio::test]
async fn a_bad_config_file_value_exits_non_zero_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sentinel.toml");
    std::fs::write(&file, "[health]\ncheck_interval_ms = 0\n").unwrap();
    let (status, stderr) = refused(&["serve", "--config", file.to_str().unwrap()], &[]).await;
    assert_eq!(status, Some(2));
    assert_one_line_naming(&stderr, &["`health.check_interval_ms`", "greater than 0"]);
}

#[test]
fn help_explains_the_commands() {
    let output = Command::new(SENTINEL).arg("--help").output().unwrap();
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    for word in ["serve", "migrate", "SENTINEL_", "--config"] {
        assert!(help.contains(word), "{word} missing from --help");
    }
}

#[test]
fn migrate_applies_every_services_migrations_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(SENTINEL)
        .args(["migrate", "--data-dir", dir.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = String::from_utf8_lossy(&output.stdout);
    for kind in ServiceKind::ALL {
        let shipped = sentinel::suite::migrations(kind).sqlite.iter().count();
        assert!(
            report.contains(&format!("{kind}: {shipped} migration(s) applied")),
            "{report}"
        );
    }
}

/// The README's run command, end to end: the binary serves health to an outside client and
/// stops cleanly on SIGTERM.
#[tokio::test]
async fn the_binary_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let addr = process::free_address();
    let args: Vec<OsString> = vec![
        "serve".into(),
        "--listen".into(),
        addr.to_string().into(),
        "--data-dir".into(),
        dir.path().into(),
    ];
    let Started::Serving(server) = process::start(Path::new(SENTINEL), &args, &[], addr).await
    else {
        panic!("sentinel did not serve");
    };
    for kind in ServiceKind::ALL {
        assert_eq!(
            process::health(addr, kind.grpc_name()).await.unwrap(),
            ServingStatus::Serving
        );
    }
    let (exit, _) = server.terminate().await;
    assert!(exit.success(), "{exit}");
}
