//! The build identity: which source, which lock file, which compiler.

use std::{path::Path, process::Command};

use serde::Serialize;

use crate::EvidenceError;

#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub product: String,
    pub version: String,
    /// `None` outside a git checkout.
    pub commit: Option<String>,
    /// Uncommitted changes (tracked or untracked, not ignored) beside the commit.
    pub dirty: Option<bool>,
    /// The commit's time (RFC 3339): the pack's reproducible timestamp.
    pub commit_time: Option<String>,
    pub rustc: String,
    pub cargo: String,
    pub lock_sha256: String,
}

/// A program's trimmed standard output, or `None` when it cannot run or fails.
pub fn output(program: &str, args: &[&str], dir: &Path) -> Option<String> {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(ring::digest::digest(&ring::digest::SHA256, bytes))
}

impl Identity {
    pub fn of(root: &Path) -> Result<Identity, EvidenceError> {
        let lock = crate::read(&root.join("Cargo.lock"))?;
        let in_git = output("git", &["rev-parse", "--show-toplevel"], root)
            .and_then(|top| std::fs::canonicalize(top).ok())
            == std::fs::canonicalize(root).ok();
        let git = |args: &[&str]| in_git.then(|| output("git", args, root)).flatten();
        Ok(Identity {
            product: "Sentinel".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit: git(&["rev-parse", "HEAD"]),
            dirty: git(&["status", "--porcelain"]).map(|s| !s.is_empty()),
            commit_time: git(&["show", "-s", "--format=%cI", "HEAD"]),
            rustc: output("rustc", &["--version"], root).unwrap_or_else(|| "unknown".into()),
            cargo: output("cargo", &["--version"], root).unwrap_or_else(|| "unknown".into()),
            lock_sha256: sha256_hex(lock.as_bytes()),
        })
    }
}
