//! The `sentinel` binary run as a newcomer or an operator runs it, with a clean `SENTINEL_`
//! environment: started, then either serving (health answers) or exited with its error.

use std::{
    ffi::OsString,
    net::{SocketAddr, TcpListener},
    path::Path,
    process::Stdio,
    time::Duration,
};

use tokio::process::{Child, Command};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// How the binary ended up after start.
#[derive(Debug)]
pub enum Started {
    /// It exited, as it must on invalid configuration.
    Exited { code: Option<i32>, stderr: String },
    /// It answers health on `addr`; it is stopped when dropped.
    Serving(SentinelProcess),
}

/// A running `sentinel serve`.
#[derive(Debug)]
pub struct SentinelProcess {
    child: Child,
    pub addr: SocketAddr,
    /// Everything it has written to stderr, read as it is written: a pipe nobody reads fills
    /// up and blocks the server mid-log.
    stderr: tokio::task::JoinHandle<String>,
}

/// Reads `child`'s stderr to its end in the background.
fn drain_stderr(child: &mut Child) -> tokio::task::JoinHandle<String> {
    let stderr = child.stderr.take();
    tokio::spawn(async move {
        let mut text = String::new();
        if let Some(mut stderr) = stderr {
            use tokio::io::AsyncReadExt;
            let mut bytes = Vec::new();
            let _ = stderr.read_to_end(&mut bytes).await;
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// A free loopback address for a server to listen on.
///
/// Taken below the kernel's ephemeral range (32768 and up on Linux), from a counter of this
/// process: in-process suites bind port 0 and land in the ephemeral range, so a port handed out
/// here cannot be taken by one of them between this check and the server's bind.
pub fn free_address() -> SocketAddr {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let base = 20_000 + (std::process::id() % 400) as u16 * 25;
    for _ in 0..10_000 {
        let offset = NEXT.fetch_add(1, Ordering::Relaxed) % 12_000;
        let port = 20_000 + (base - 20_000 + offset) % 12_000;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener.local_addr().expect("a bound address");
        }
    }
    panic!("no free loopback port below the ephemeral range");
}

/// Runs `binary serve`-style `args` with only `env` as its `SENTINEL_` environment, and waits
/// until it serves on `addr` or exits (at most 60 s).
pub async fn start(
    binary: &Path,
    args: &[OsString],
    env: &[(String, String)],
    addr: SocketAddr,
) -> Started {
    start_in(binary, args, env, addr, None).await
}

/// Like [`start`], in the working directory `cwd` (a container's WORKDIR).
pub async fn start_in(
    binary: &Path,
    args: &[OsString],
    env: &[(String, String)],
    addr: SocketAddr,
    cwd: Option<&Path>,
) -> Started {
    let (mut child, stderr) = spawn(binary, args, env, cwd);
    for _ in 0..1200 {
        if let Some(status) = child.try_wait().expect("poll sentinel") {
            return Started::Exited {
                code: status.code(),
                stderr: stderr.await.unwrap_or_default(),
            };
        }
        if health(addr, "").await.is_ok() {
            return Started::Serving(SentinelProcess {
                child,
                addr,
                stderr,
            });
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("sentinel neither served nor exited within 60 s");
}

/// Spawns `binary` with only `env` as its `SENTINEL_` environment, its stderr read aside.
fn spawn(
    binary: &Path,
    args: &[OsString],
    env: &[(String, String)],
    cwd: Option<&Path>,
) -> (Child, tokio::task::JoinHandle<String>) {
    let mut command = Command::new(binary);
    command.args(args);
    if let Some(cwd) = cwd {
        command.current_dir(cwd);
    }
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SENTINEL_") {
            command.env_remove(name);
        }
    }
    command
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("spawn sentinel");
    let stderr = drain_stderr(&mut child);
    (child, stderr)
}

/// Runs `binary serve`-style `args` and sends it SIGTERM the moment `addr` accepts a TCP
/// connection — before health may answer — as Kubernetes does to a pod a rollout overtakes;
/// returns how it exited and what it logged.
pub async fn start_and_stop_at_once(
    binary: &Path,
    args: &[OsString],
    env: &[(String, String)],
    addr: SocketAddr,
) -> (std::process::ExitStatus, String) {
    let (mut child, stderr) = spawn(binary, args, env, None);
    for _ in 0..60_000 {
        if let Some(status) = child.try_wait().expect("poll sentinel") {
            panic!(
                "sentinel exited before it listened ({status}): {}",
                stderr.await.unwrap_or_default()
            );
        }
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return SentinelProcess {
                child,
                addr,
                stderr,
            }
            .terminate()
            .await;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    panic!("sentinel did not listen within 60 s");
}

/// What `grpc.health.v1.Health/Check` at `addr` answers for `service`.
pub async fn health(addr: SocketAddr, service: &str) -> Result<ServingStatus, tonic::Status> {
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .map_err(|e| tonic::Status::invalid_argument(e.to_string()))?
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
    let answer = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await?;
    Ok(answer.into_inner().status())
}

impl SentinelProcess {
    /// The process id, to watch its CPU and memory in `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or_default()
    }

    /// Kills it with SIGKILL, as the kernel's OOM killer or a node loss would, and waits.
    pub async fn kill(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Sends SIGTERM, as Kubernetes does, and waits for the exit status and what it logged.
    pub async fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let pid = self.child.id().expect("running child") as i32;
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("signal sentinel");
        let status = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("sentinel exits within 30 s of SIGTERM")
            .expect("wait for sentinel");
        (status, self.stderr.await.unwrap_or_default())
    }
}

/// Runs `binary` with `args` to completion, with a clean `SENTINEL_` environment; returns the
/// exit code and standard output.
pub fn run_to_end(binary: &Path, args: &[String]) -> (Option<i32>, String) {
    let mut command = std::process::Command::new(binary);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SENTINEL_") {
            command.env_remove(name);
        }
    }
    let output = command.args(args).output().expect("run sentinel");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

/// The flags that point a `sentinel` command at the store `config` uses.
pub fn store_flags(config: &sentinel_platform::Config) -> Vec<String> {
    match &config.database_url {
        Some(url) => vec!["--database-url".into(), url.clone()],
        None => vec!["--data-dir".into(), config.data_dir.display().to_string()],
    }
}

/// The first admin of a `sentinel serve`: the credential it wrote into its data directory, a
/// channel to it, and a device-registry client presenting that credential.
#[derive(Debug)]
pub struct FirstAdmin {
    pub token: String,
    pub channel: tonic::transport::Channel,
    pub registry: sentinel_contract::registry::v1::device_registry_client::DeviceRegistryClient<
        crate::Authed,
    >,
}

/// The first admin of the `sentinel serve` at `addr` whose data directory is `data_dir`.
pub async fn first_admin(addr: SocketAddr, data_dir: &Path) -> FirstAdmin {
    let token = std::fs::read_to_string(data_dir.join("admin.token"))
        .expect("admin.token")
        .trim()
        .to_owned();
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .expect("an address")
        .connect()
        .await
        .expect("connect to sentinel");
    let registry =
        sentinel_contract::registry::v1::device_registry_client::DeviceRegistryClient::with_interceptor(
            channel.clone(),
            crate::Bearer::new(&token),
        );
    FirstAdmin {
        token,
        channel,
        registry,
    }
}
