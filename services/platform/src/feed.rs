//! A followable log — the reading log, the alert change log — in one shape. Writers commit
//! through the [`Feed`], which wakes this process's followers as part of committing, so no
//! writer can forget to; followers stream what the log holds after their cursor, then each new
//! commit, and poll for what other replicas commit to the same store.

use std::{future::Future, sync::Arc, time::Duration};

use sqlx::{Any, Transaction};
use tokio::sync::{Notify, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::ServiceError;

/// Entries a follower reads at a time.
pub const PAGE: u32 = 500;
/// How often a caught-up follower looks for commits made by other replicas.
const POLL: Duration = Duration::from_millis(200);
/// Entries buffered for a slow follower before reading waits for it.
const BUFFER: usize = 256;

/// A followed stream of entries, ending with an error status if the log cannot be read.
pub type FeedStream<T> = ReceiverStream<Result<T, Status>>;

/// The commit signal of one followed log.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    commits: Arc<Notify>,
}

impl Feed {
    pub fn new() -> Self {
        Feed::default()
    }

    /// Commits `tx`, which wrote to the log, and wakes every follower in this process.
    pub async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), ServiceError> {
        tx.commit().await?;
        self.commits.notify_waiters();
        Ok(())
    }

    /// Streams the log from after position `after` until the follower goes away or `shutdown`
    /// changes. `page(after)` reads the next [`PAGE`] entries after a position, in log order,
    /// each with its position and `None` for an entry this follower skips.
    pub fn follow<T, F, Fut>(
        &self,
        mut after: u64,
        mut shutdown: watch::Receiver<bool>,
        mut page: F,
    ) -> FeedStream<T>
    where
        T: Send + 'static,
        F: FnMut(u64) -> Fut + Send + 'static,
        Fut: Future<Output = Result<Vec<(u64, Option<T>)>, ServiceError>> + Send,
    {
        let (tx, rx) = mpsc::channel(BUFFER);
        let commits = self.commits.clone();
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    return; // the suite is stopping: end the stream so it can
                }
                // Registered before reading, so a commit during the read is not missed.
                let committed = commits.notified();
                let entries = match page(after).await {
                    Ok(entries) => entries,
                    Err(err) => {
                        let _ = tx.send(Err(Status::from(err))).await;
                        return;
                    }
                };
                let caught_up = entries.is_empty();
                for (position, entry) in entries {
                    after = position;
                    let Some(entry) = entry else { continue };
                    if tx.send(Ok(entry)).await.is_err() {
                        return; // the follower went away
                    }
                }
                if caught_up {
                    tokio::select! {
                        () = committed => {}
                        () = tokio::time::sleep(POLL) => {}
                        () = tx.closed() => return,
                        _ = shutdown.changed() => return,
                    }
                }
            }
        });
        ReceiverStream::new(rx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use tokio_stream::StreamExt;

    use super::*;

    #[tokio::test]
    async fn followers_get_every_entry_in_order_and_skip_what_they_filter() {
        let log: Arc<Mutex<Vec<u64>>> = Arc::new(Mutex::new((1..=1_200).collect()));
        let (_stop, shutdown) = watch::channel(false);
        let source = log.clone();
        let stream = Feed::new().follow(0, shutdown, move |after| {
            let page: Vec<(u64, Option<u64>)> = source
                .lock()
                .unwrap()
                .iter()
                .filter(|p| **p > after)
                .take(PAGE as usize)
                .map(|p| (*p, (p % 2 == 0).then_some(*p)))
                .collect();
            async move { Ok(page) }
        });
        let got: Vec<u64> = stream.take(600).map(Result::unwrap).collect().await;
        assert_eq!(got, (1..=600).map(|p| p * 2).collect::<Vec<_>>());
    }

    #[tokio::test(start_paused = true)]
    async fn a_follower_ends_at_shutdown() {
        let (stop, shutdown) = watch::channel(false);
        let mut stream = Feed::new().follow(0, shutdown, |_| async {
            Ok(Vec::<(u64, Option<u64>)>::new())
        });
        stop.send_replace(true);
        assert!(stream.next().await.is_none());
    }
}
