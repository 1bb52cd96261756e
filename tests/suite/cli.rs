//! The `sentinel` binary as a newcomer runs it.

use std::{
    net::TcpListener,
    process::{Command, Stdio},
    time::Duration,
};

use sentinel_platform::ServiceKind;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

/// Runs `sentinel` with `args` and a clean `SENTINEL_` environment; returns (status, stderr).
fn run(args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut command = Command::new(SENTINEL);
    command.args(args);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SENTINEL_")) {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    let output = command.output().expect("run sentinel");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
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

#[test]
fn a_bad_flag_value_exits_non_zero_with_one_line_naming_the_key() {
    let (status, stderr) = run(&["serve", "--listen", "not-an-address"], &[]);
    assert_eq!(status, Some(2));
    assert_one_line_naming(&stderr, &["`listen`", "--listen", "expected IP:PORT"]);
}

#[test]
fn an_unknown_flag_exits_non_zero_with_one_line_naming_it() {
    let (status, stderr) = run(&["serve", "--lisen", "127.0.0.1:1"], &[]);
    assert_eq!(status, Some(2));
    assert_one_line_naming(&stderr, &["--lisen"]);
}

#[test]
fn a_bad_environment_value_exits_non_zero_with_one_line_naming_the_variable() {
    let (status, stderr) = run(&["serve"], &[("SENTINEL_SERVICES", "registry,alerts")]);
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

#[test]
fn a_bad_config_file_value_exits_non_zero_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sentinel.toml");
    std::fs::write(&file, "[health]\ncheck_interval_ms = 0\n").unwrap();
    let (status, stderr) = run(&["serve", "--config", file.to_str().unwrap()], &[]);
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
        assert!(
            report.contains(&format!("{kind}: 1 migration(s) applied")),
            "{report}"
        );
    }
}

/// The README's run command, end to end: the binary serves health to an outside client and
/// stops cleanly on SIGTERM.
#[tokio::test]
async fn the_binary_serves_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut child = tokio::process::Command::new(SENTINEL)
        .args(["serve", "--listen", &listen, "--data-dir"])
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();

    let mut status = None;
    for _ in 0..200 {
        let endpoint = tonic::transport::Endpoint::from_shared(format!("http://{listen}")).unwrap();
        if let Ok(channel) = endpoint.connect().await {
            let mut client = HealthClient::new(channel);
            let answer = client
                .check(HealthCheckRequest {
                    service: ServiceKind::Ingestion.grpc_name().to_owned(),
                })
                .await;
            if let Ok(answer) = answer {
                status = Some(answer.into_inner().status());
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, Some(ServingStatus::Serving));

    let pid = nix::unistd::Pid::from_raw(child.id().unwrap() as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits after SIGTERM")
        .unwrap();
    assert!(exit.success(), "{exit}");
}
