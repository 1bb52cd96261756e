//! A throwaway PostgreSQL server, one per test binary: `initdb` into a temp dir, a free
//! loopback port, run as an unprivileged user when the tests run as root (PostgreSQL refuses
//! root), stopped when the test process ends.
//!
//! `SENTINEL_PG_BINDIR` names the directory of `initdb` and `pg_ctl` when they are not on
//! `PATH`. When the programs are missing the PostgreSQL runs are skipped with a notice, unless
//! `SENTINEL_REQUIRE_PG=1` (as in CI), which makes a missing PostgreSQL fail the run.

use std::{
    net::TcpListener,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

use nix::unistd::{Gid, Uid, User};
use sqlx::{Connection, Executor};

/// A running PostgreSQL server owned by this test process.
#[derive(Debug)]
pub struct PgServer {
    port: u16,
    databases: AtomicU32,
}

#[derive(Debug, thiserror::Error)]
pub enum PgError {
    #[error("PostgreSQL server programs not found (set SENTINEL_PG_BINDIR or put initdb on PATH)")]
    NotInstalled,
    #[error("{step} failed: {detail}")]
    Step { step: &'static str, detail: String },
}

/// The shared server of this test binary, started on first use. `None` means PostgreSQL is
/// not installed and not required: the caller skips its PostgreSQL runs.
///
/// # Panics
/// When PostgreSQL is required (`SENTINEL_REQUIRE_PG=1`) but cannot be started, or when it is
/// installed but fails to start.
pub fn shared() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| match PgServer::start() {
            Ok(server) => Some(server),
            Err(PgError::NotInstalled) if !required() => {
                eprintln!("notice: PostgreSQL not installed: skipping the PostgreSQL runs");
                None
            }
            Err(err) => panic!("throwaway PostgreSQL: {err}"),
        })
        .as_ref()
}

/// A second server with PostgreSQL's durable defaults (fsync, synchronous commit, full page
/// writes), for benchmarks whose figures must mean what they say. `None` when not installed.
pub fn durable() -> Option<&'static PgServer> {
    static SERVER: OnceLock<Option<PgServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| match PgServer::start_with(Durability::Durable) {
            Ok(server) => Some(server),
            Err(PgError::NotInstalled) => None,
            Err(err) => panic!("throwaway PostgreSQL: {err}"),
        })
        .as_ref()
}

/// Whether the server may lose committed work on a crash (fast, for tests) or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Durability {
    Fast,
    Durable,
}

/// Whether a missing PostgreSQL fails the run (`SENTINEL_REQUIRE_PG=1`).
pub fn required() -> bool {
    std::env::var("SENTINEL_REQUIRE_PG").is_ok_and(|v| v == "1" || v == "true")
}

impl PgServer {
    fn start() -> Result<PgServer, PgError> {
        PgServer::start_with(Durability::Fast)
    }

    fn start_with(durability: Durability) -> Result<PgServer, PgError> {
        let bindir = find_bindir().ok_or(PgError::NotInstalled)?;
        let root = tempfile::Builder::new()
            .prefix("sentinel-pg-")
            .tempdir()
            .map_err(|e| step("temp dir", e))?
            .keep();
        let data = root.join("data");
        let log = root.join("postgres.log");
        let owner = unprivileged_owner();
        if let Some((uid, gid)) = owner {
            std::os::unix::fs::chown(&root, Some(uid.as_raw()), Some(gid.as_raw()))
                .map_err(|e| step("chown", e))?;
        }
        let port = free_port()?;

        run(
            as_owner(Command::new(bindir.join("initdb")), owner)
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                    "-N",
                ]),
            "initdb",
        )?;
        let speed = match durability {
            // A test server's data dies with the test: crash safety buys nothing there.
            Durability::Fast => "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            Durability::Durable => "",
        };
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c max_connections=300 {speed}",
            root.display()
        );
        run(
            as_owner(Command::new(bindir.join("pg_ctl")), owner)
                .arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-o", &options, "-w", "-t", "60", "start"]),
            "pg_ctl start",
        )?;
        watch_over(&root, &data)?;
        Ok(PgServer {
            port,
            databases: AtomicU32::new(0),
        })
    }

    /// A new, empty database on this server, as a `postgres://` URL.
    pub async fn create_database(&self) -> String {
        let n = self.databases.fetch_add(1, Ordering::Relaxed);
        let name = format!("sentinel_test_{n}");
        let admin = self.url("postgres");
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("connect to throwaway PostgreSQL: {e}"));
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap_or_else(|e| panic!("create database {name}: {e}"));
        let _ = conn.close().await;
        self.url(&name)
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }
}

fn find_bindir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SENTINEL_PG_BINDIR") {
        let dir = PathBuf::from(dir);
        return dir.join("initdb").is_file().then_some(dir);
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
    });
    on_path.or_else(|| {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|entry| Some(entry.ok()?.path().join("bin")))
            .filter(|dir| dir.join("initdb").is_file())
            .collect();
        versions.sort();
        versions.pop()
    })
}

/// `nobody` when running as root; PostgreSQL refuses to run as root.
fn unprivileged_owner() -> Option<(Uid, Gid)> {
    if !Uid::effective().is_root() {
        return None;
    }
    let user = User::from_name("nobody").ok().flatten()?;
    Some((user.uid, user.gid))
}

fn as_owner(mut command: Command, owner: Option<(Uid, Gid)>) -> Command {
    if let Some((uid, gid)) = owner {
        command
            .uid(uid.as_raw())
            .gid(gid.as_raw())
            .env("HOME", "/tmp");
    }
    command
}

fn run(command: &mut Command, name: &'static str) -> Result<(), PgError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| step(name, e))?;
    if output.status.success() {
        return Ok(());
    }
    Err(PgError::Step {
        step: name,
        detail: format!(
            "{}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}

/// A watchdog that stops the server and removes its files once this test process has ended,
/// however it ends: a static's `Drop` never runs at exit.
fn watch_over(root: &Path, data: &Path) -> Result<(), PgError> {
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.2; done; \
         kill -QUIT \"$(head -n 1 '{pidfile}')\" 2>/dev/null; sleep 1; rm -rf '{root}'",
        pid = std::process::id(),
        pidfile = data.join("postmaster.pid").display(),
        root = root.display(),
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map(|_| ())
        .map_err(|e| step("watchdog", e))
}

fn free_port() -> Result<u16, PgError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| step("free port", e))?;
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|e| step("free port", e))
}

fn step(step: &'static str, err: impl std::fmt::Display) -> PgError {
    PgError::Step {
        step,
        detail: err.to_string(),
    }
}
