//! A witness outside the database: every checkpoint the log publishes is also appended, as a
//! JSON line (`tree_size`, `note`), to a file the auditor holds — on storage the database's
//! administrators cannot write. Whoever rewrites or cuts the log in the database cannot reach
//! the heads already witnessed, and `sentinel audit verify --trusted-checkpoint <file>` checks
//! the log against the latest of them.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

/// One witnessed checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct Witnessed {
    tree_size: u64,
    note: String,
}

/// The file checkpoints are witnessed in.
#[derive(Debug, Clone)]
pub struct WitnessFile {
    path: PathBuf,
}

impl WitnessFile {
    pub fn new(path: PathBuf) -> Self {
        WitnessFile { path }
    }

    /// Appends the checkpoint of `tree_size`, signed `note`, and makes it durable. The log's
    /// records are committed before this is called: a witness that cannot be written is
    /// reported, and never undoes or blocks the log.
    pub async fn witness(&self, tree_size: u64, note: &str) {
        if let Err(err) = self.append(tree_size, note).await {
            tracing::error!(
                file = %self.path.display(),
                error = %err,
                tree_size,
                "the audit checkpoint could not be witnessed"
            );
        }
    }

    async fn append(&self, tree_size: u64, note: &str) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(&Witnessed {
            tree_size,
            note: note.to_owned(),
        })?;
        line.push(b'\n');
        let mut file = tokio::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
            .await?;
        file.write_all(&line).await?;
        file.sync_data().await
    }
}

/// The signed note an auditor's file holds: the last line of a witness file, or the whole
/// file when it is a single note (as `LatestCheckpoint` gives it).
pub fn latest_note(text: &str) -> Option<String> {
    if !text.trim_start().starts_with('{') {
        return Some(text.to_owned());
    }
    text.lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Witnessed>(line).ok())
        .map(|witnessed| witnessed.note)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_latest_witnessed_note_is_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let witness = WitnessFile::new(dir.path().join("witness.jsonl"));
        witness.witness(1, "log\n1\nAAA=\n\n— log sig1\n").await;
        witness.witness(6, "log\n6\nBBB=\n\n— log sig6\n").await;
        let text = std::fs::read_to_string(dir.path().join("witness.jsonl")).unwrap();
        assert_eq!(text.lines().count(), 2);
        assert_eq!(latest_note(&text).unwrap(), "log\n6\nBBB=\n\n— log sig6\n");
        assert_eq!(
            latest_note("log\n1\nAAA=\n\n— log s\n").unwrap(),
            "log\n1\nAAA=\n\n— log s\n"
        );
    }
}
