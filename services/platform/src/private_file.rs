//! Files holding secrets (a generated signing key, the first admin credential) and the
//! directories and stores that hold patient data: only their owner may read them, whatever the
//! umask (a mode given at creation is narrowed by the umask, never widened).

use std::{fs, io::Write, path::Path};

/// Creates `dir` and any missing parents, each only its owner may enter (0700); an existing
/// directory is left as it is.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Creates an empty file at `path` that only its owner can read and write (0600), unless one
/// is there: SQLite then opens it (and makes its WAL and shared-memory files with its mode).
pub fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(err) => Err(err),
    }
}

/// Whether anyone but its owner may read or enter `path` (group or other permissions).
pub fn open_to_others(path: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        false
    }
}

/// Writes `text` and a newline to a new file at `path` that only its owner can read, creating
/// its directory; never replaces an existing file. Synced before returning.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    write_private_exact(path, &format!("{text}\n"))
}

/// Like [`write_private`], with no newline added: for values read byte for byte by others (a
/// Kubernetes Secret generated from the file, a database role's name and password).
pub fn write_private_exact(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}
