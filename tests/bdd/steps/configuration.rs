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
    let scratch = tempfile::tempdir().expect("temp dir");
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
    // that sets the same variable replaces them.
    let mut env = vec![("SENTINEL_LISTEN".to_owned(), addr.to_string())];
    if let Some(url) = SuiteWorld::database_url().await {
        env.push(("SENTINEL_DATABASE_URL".to_owned(), url));
    }
    env.retain(|(name, _)| !world.launch.env.iter().any(|(set, _)| set == name));
    env.extend(world.launch.env.iter().cloned());
    world.started = Some(process::start(Path::new(SENTINEL), &args, &env, addr).await);
    world.launch.last = Some((args, env));
    world.scratch = Some(scratch);
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
    let (args, env) = world.launch.last.clone().expect("a start before");
    let listen = env
        .iter()
        .find(|(name, _)| name == "SENTINEL_LISTEN")
        .and_then(|(_, addr)| addr.parse().ok())
        .expect("the address it was given");
    world.started = Some(process::start(Path::new(SENTINEL), &args, &env, listen).await);
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
