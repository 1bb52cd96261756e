//! Files holding secrets (a generated signing key, the first admin credential).

use std::{fs, io::Write, path::Path};

/// Writes `text` and a newline to a new file at `path` that only its owner can read, creating
/// its directory; never replaces an existing file. Synced before returning.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    write_private_exact(path, &format!("{text}\n"))
}

/// Like [`write_private`], with no newline added: for values read byte for byte by others (a
/// Kubernetes Secret generated from the file, a database role's name and password).
pub fn write_private_exact(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
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
