//! Group commit: concurrent appends are queued and written together, many records to one
//! transaction, each caller answered only after that transaction commits. One writer task per
//! process; across processes the store's write lock serialises them.

use std::{sync::Arc, time::Duration};

use tokio::{
    sync::{mpsc, oneshot, watch},
    task::JoinHandle,
};

use crate::{chain::AuditChain, domain::record::AuditEntry, domain::verify::StoredRecord};

/// Records written in one transaction at most.
const MAX_BATCH: usize = 512;
/// Appends waiting at most; beyond this callers are told to retry.
const QUEUE: usize = 8_192;

#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    #[error("audit append queue is full")]
    Overloaded { retry_after: Duration },
    #[error("audit append failed: {0}")]
    Failed(String),
}

struct Pending {
    entry: AuditEntry,
    reply: oneshot::Sender<Result<StoredRecord, AppendError>>,
}

/// The handle callers append through.
#[derive(Clone)]
pub struct Appender {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender")
            .field("waiting", &(QUEUE - self.queue.capacity()))
            .finish()
    }
}

impl Appender {
    /// Starts the writer task. It ends once every `Appender` is dropped and the queue drained.
    pub fn spawn(chain: Arc<AuditChain>) -> (Appender, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        (Appender { queue }, tokio::spawn(write(chain, rx)))
    }

    /// Appends `entry`; answers once it is committed.
    pub async fn append(&self, entry: AuditEntry) -> Result<StoredRecord, AppendError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .try_send(Pending { entry, reply })
            .map_err(|err| match err {
                mpsc::error::TrySendError::Full(_) => AppendError::Overloaded {
                    retry_after: Duration::from_millis(100),
                },
                mpsc::error::TrySendError::Closed(_) => {
                    AppendError::Failed("the audit writer has stopped".into())
                }
            })?;
        answer
            .await
            .map_err(|_| AppendError::Failed("the audit writer stopped before answering".into()))?
    }
}

async fn write(chain: Arc<AuditChain>, mut rx: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let entries: Vec<AuditEntry> = batch.iter().map(|p| p.entry.clone()).collect();
        match chain.append(&entries).await {
            Ok(records) => {
                for (pending, record) in batch.drain(..).zip(records) {
                    // A caller that went away still had its record written: that is fine.
                    let _ = pending.reply.send(Ok(record));
                }
            }
            Err(err) => {
                tracing::error!(error = %err, records = batch.len(), "audit append failed");
                for pending in batch.drain(..) {
                    let _ = pending
                        .reply
                        .send(Err(AppendError::Failed(err.to_string())));
                }
            }
        }
    }
}

/// How often a log out of service is checked again.
const RECHECK: Duration = Duration::from_secs(2);

/// Publishes a checkpoint whenever `every` has passed with records appended since the last
/// one, and checks a log out of service again every few seconds, until `shutdown` changes.
pub fn spawn_checkpoints(
    chain: Arc<AuditChain>,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = recheck.tick() => {
                    if chain.problem().is_some() {
                        chain.recheck().await;
                    }
                }
                _ = tick.tick() => {
                    if let Err(err) = chain.publish_if_due().await {
                        tracing::error!(error = %err, "audit checkpoint failed");
                    }
                }
                _ = shutdown.changed() => break,
            }
        }
    })
}
