//! Steps that start the `sentinel` binary with configuration in each layer.

use std::{ffi::OsString, path::Path};

use cucumber::{given, then, when};
use sentinel_testkit::process::{self, Started};

use crate::world::SuiteWorld;

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

#[given(
    regex = r#"^the (flag|environment variable|config file key) "([^"]+)" is "((?:[^"\\]|\\.)*)"$"#
)]
async fn set_layer(world: &mut SuiteWorld, layer: String, name: String, value: String) {
    let value = value.replace("\\\"", "\"");
    match layer.as_str() {
        "flag" => world.launch.flags.push((name, value)),
        "environment variable" => world.launch.env.push((name, value)),
        // TOML dotted keys place `log.format = ...` in its table.
        _ => world.launch.file_lines.push(format!("{name} = {value}")),
    }
}

#[when("sentinel serve starts")]
async fn serve_starts(world: &mut SuiteWorld) {
    let (args, env, addr) = launch(world).await;
    world.started = Some(process::start(Path::new(SENTINEL), &args, &env, addr).await);
    world.launch.last = Some((args, env));
}

#[when("sentinel serve starts and is sent SIGTERM as soon as its port accepts connections")]
async fn serve_stopped_at_once(world: &mut SuiteWorld) {
    let (args, env, addr) = launch(world).await;
    let (status, stderr) =
        process::start_and_stop_at_once(Path::new(SENTINEL), &args, &env, addr).await;
    world.started = Some(Started::Exited {
        code: status.code(),
        stderr,
    });
}

#[then(expr = "it exits with status {int}, its log saying {string} and then {string}")]
async fn exited_saying(world: &mut SuiteWorld, code: i32, first: String, then: String) {
    let Some(Started::Exited {
        code: exited,
        stderr,
    }) = &world.started
    else {
        panic!("sentinel has not exited: {:?}", world.started);
    };
    assert_eq!(*exited, Some(code), "{stderr}");
    let at = |part: &str| {
        stderr
            .find(part)
            .unwrap_or_else(|| panic!("{part:?} missing from: {stderr}"))
    };
    assert!(
        at(&first) < at(&then),
        "{first:?} not before {then:?}: {stderr}"
    );
}

/// The arguments, environment and address of `sentinel serve` as the scenario configured it,
/// in a scratch data directory of its own.
async fn launch(
    world: &mut SuiteWorld,
) -> (Vec<OsString>, Vec<(String, String)>, std::net::SocketAddr) {
    // Private, as an operator keeps it (tempfile makes it as the umask allows).
    let scratch = tempfile::Builder::new()
        .permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700))
        .tempdir()
        .expect("temp dir");
    let addr = process::free_address();
    let mut args: Vec<OsString> = vec!["serve".into(), "--data-dir".into(), scratch.path().into()];
    if !world.launch.file_lines.is_empty() {
        let file = scratch.path().join("sentinel.toml");
        std::fs::write(&file, world.launch.file_lines.join("\n")).expect("write config file");
        args.extend(["--config".into(), file.into()]);
    }
    for (flag, value) in &world.launch.flags {
        args.extend([flag.into(), value.into()]);
    }
    // The run's own settings sit in the environment, beneath the scenario's flags; a scenario
    // that sets the same variable replaces them (a listener on every interface is reached
    // through loopback).
    let addr = world
        .launch
        .env
        .iter()
        .find(|(name, _)| name == "SENTINEL_LISTEN")
        .and_then(|(_, value)| value.parse::<std::net::SocketAddr>().ok())
        .map_or(addr, |set| {
            std::net::SocketAddr::from(([127, 0, 0, 1], set.port()))
        });
    let mut env = vec![("SENTINEL_LISTEN".to_owned(), addr.to_string())];
    if let Some(url) = SuiteWorld::database_url().await {
        env.push(("SENTINEL_DATABASE_URL".to_owned(), url));
    }
    env.retain(|(name, _)| !world.launch.env.iter().any(|(set, _)| set == name));
    env.extend(world.launch.env.iter().cloned());
    world.scratch = Some(scratch);
    (args, env, addr)
}

#[when("sentinel serve starts on every interface")]
async fn serve_everywhere(world: &mut SuiteWorld) {
    let port = process::free_address().port();
    world
        .launch
        .env
        .retain(|(name, _)| name != "SENTINEL_LISTEN");
    world
        .launch
        .env
        .push(("SENTINEL_LISTEN".into(), format!("0.0.0.0:{port}")));
    serve_starts(world).await;
}

#[then(expr = "once stopped, its log says {string} and {string}")]
async fn log_says(world: &mut SuiteWorld, first: String, second: String) {
    let Some(Started::Serving(process)) = world.started.take() else {
        panic!("sentinel is not serving");
    };
    let (_, log) = process.terminate().await;
    for part in [first, second] {
        assert!(log.contains(&part), "{part:?} missing from: {log}");
    }
}

#[when("sentinel serve starts under umask 000 with a data directory of its own making")]
async fn serve_under_umask(world: &mut SuiteWorld) {
    let scratch = tempfile::tempdir().expect("temp dir");
    let data = scratch.path().join("data");
    world.scratch = Some(scratch);
    start_under_umask(world, &data).await;
}

/// `sentinel serve --data-dir data` through a shell that first clears the umask.
async fn start_under_umask(world: &mut SuiteWorld, data: &Path) {
    let addr = process::free_address();
    let args: Vec<OsString> = vec![
        "-c".into(),
        "umask 000; exec \"$0\" \"$@\"".into(),
        SENTINEL.into(),
        "serve".into(),
        "--data-dir".into(),
        data.into(),
    ];
    let mut env = vec![("SENTINEL_LISTEN".to_owned(), addr.to_string())];
    if let Some(url) = SuiteWorld::database_url().await {
        env.push(("SENTINEL_DATABASE_URL".to_owned(), url));
    }
    world.started = Some(process::start(Path::new("/bin/sh"), &args, &env, addr).await);
    world.launch.last = Some((args, env));
}

fn data_dir(world: &SuiteWorld) -> std::path::PathBuf {
    world
        .scratch
        .as_ref()
        .expect("a scratch directory")
        .path()
        .join("data")
}

#[then("every directory and file in its data directory is its owner's alone")]
async fn all_private(world: &mut SuiteWorld) {
    use std::os::unix::fs::PermissionsExt;
    let mut pending = vec![data_dir(world)];
    let mut seen = Vec::new();
    while let Some(path) = pending.pop() {
        let meta = std::fs::metadata(&path).expect("there");
        let mode = meta.permissions().mode() & 0o777;
        let want = if meta.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode, want, "{} is {mode:o}", path.display());
        if meta.is_dir() {
            pending.extend(std::fs::read_dir(&path).unwrap().map(|e| e.unwrap().path()));
        }
        seen.push(path);
    }
    // At least the directory, the first admin's credential and the audit signing key.
    assert!(seen.len() >= 3, "{seen:?}");
}

#[when("its data directory and stores are opened to others and sentinel serve starts again")]
async fn opened_and_again(world: &mut SuiteWorld) {
    use std::os::unix::fs::PermissionsExt;
    if let Some(Started::Serving(process)) = world.started.take() {
        process.terminate().await;
    }
    let data = data_dir(world);
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for entry in std::fs::read_dir(&data).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "db") {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
    }
    // Again on the same stores, through the same shell.
    start_again(world, Path::new("/bin/sh")).await;
}

#[then("once stopped, its log warns of each that others may read")]
async fn warns_of_open(world: &mut SuiteWorld) {
    let process = match world.started.take() {
        Some(Started::Serving(process)) => process,
        other => panic!("sentinel is not serving: {other:?}"),
    };
    let (_, log) = process.terminate().await;
    assert!(log.contains("open to others: chmod 700"), "{log}");
    if SuiteWorld::database_url().await.is_none() {
        assert!(log.contains("readable by others: chmod 600"), "{log}");
    }
}

#[when("`sentinel migrate` runs on that store")]
async fn migrate_runs(world: &mut SuiteWorld) {
    let (args, env) = world.launch.last.clone().expect("a start before");
    // The same store flags and environment as `serve`, as the Kubernetes Job has.
    let mut migrate: Vec<OsString> = vec!["migrate".into()];
    migrate.extend(args.into_iter().skip(1));
    let status = std::process::Command::new(SENTINEL)
        .args(&migrate)
        .env_clear()
        .envs(env)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .status()
        .expect("run sentinel migrate");
    assert!(status.success(), "sentinel migrate: {status}");
}

#[when("sentinel serve starts again on that store")]
async fn serve_again(world: &mut SuiteWorld) {
    start_again(world, Path::new(SENTINEL)).await;
}

/// `program` with the arguments and environment of the last start, on the address it had.
async fn start_again(world: &mut SuiteWorld, program: &Path) {
    let (args, env) = world.launch.last.clone().expect("a start before");
    let listen = env
        .iter()
        .find(|(name, _)| name == "SENTINEL_LISTEN")
        .and_then(|(_, addr)| addr.parse().ok())
        .expect("the address it was given");
    world.started = Some(process::start(program, &args, &env, listen).await);
}

#[then(expr = "it exits with status {int} without serving")]
async fn exits_with(world: &mut SuiteWorld, expected: i32) {
    match &world.started {
        Some(Started::Exited { code, .. }) => assert_eq!(*code, Some(expected)),
        other => panic!("sentinel did not exit: {other:?}"),
    }
}

#[then(expr = "it prints one line naming {string}, {string} and {string}")]
async fn prints_one_line(world: &mut SuiteWorld, first: String, second: String, third: String) {
    let Some(Started::Exited { stderr, .. }) = &world.started else {
        panic!("sentinel did not exit");
    };
    assert_eq!(
        stderr.trim_end().lines().count(),
        1,
        "not one line: {stderr}"
    );
    for part in [first, second, third] {
        assert!(stderr.contains(&part), "{part:?} missing from: {stderr}");
    }
}

#[then("it serves")]
async fn it_serves(world: &mut SuiteWorld) {
    match &world.started {
        Some(Started::Serving(_)) => {}
        other => panic!("sentinel is not serving: {other:?}"),
    }
}
