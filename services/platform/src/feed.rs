//! A followable log — the reading log, the alert change log — in one shape. Writers commit
//! through the [`Feed`], which wakes this process's followers as part of committing, so no
//! writer can forget to; followers stream what the log holds after their cursor, then each new
//! commit. On PostgreSQL, replicas sharing the store also wake one another: each commit is
//! announced with `NOTIFY` and each process `LISTEN`s on a connection of its own, so a watcher
//! served by one replica sees what another committed at once. Looking again every 30 s (every
//! 200 ms while a replica cannot be told) stays as the safety net; idle followers cost next to
//! nothing.

use std::{
    future::Future,
    sync::{
        Arc, OnceLock, Weak,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{
    Any, Transaction,
    postgres::{PgListener, PgPool, PgPoolOptions},
};
use tokio::sync::{Notify, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::{ServiceError, Store};

/// Entries a follower reads at a time.
pub const PAGE: u32 = 500;
/// How often a caught-up follower on PostgreSQL looks for other replicas' commits while it
/// cannot be told of them (its listening connection is down, or a pooler drops notifications).
const POLL: Duration = Duration::from_millis(200);
/// How often it looks otherwise: every commit wakes it (this process's directly, other
/// replicas' by notification, and all at once after a listener reconnects), so this is only a
/// safety net, and idle followers cost next to nothing.
const POLL_TOLD: Duration = Duration::from_secs(30);
/// How long the listener waits before connecting again after losing its connection.
const RECONNECT: Duration = Duration::from_secs(1);
/// Entries buffered for a slow follower before reading waits for it.
const BUFFER: usize = 256;

/// A followed stream of entries, ending with an error status if the log cannot be read.
pub type FeedStream<T> = ReceiverStream<Result<T, Status>>;

/// The commit signal of one followed log.
#[derive(Debug, Clone, Default)]
pub struct Feed {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    commits: Notify,
    shared: Option<Shared>,
}

/// Commits announced to, and heard from, other processes on the same PostgreSQL store.
#[derive(Debug)]
struct Shared {
    store: Store,
    /// `<schema>.<log>`: one channel per log and deployment's database.
    channel: String,
    /// Tells this process's notifications from others' (its own followers are woken directly).
    me: String,
    /// A commit to announce; the announcer sends one `NOTIFY` for however many arrived.
    announce: Arc<Notify>,
    /// Whether the listener is connected (followers then poll rarely).
    listening: Arc<AtomicBool>,
    /// The listener's own connection, made on first use (inside the runtime); closed with the
    /// feed, which ends the listener.
    listener: OnceLock<Option<PgPool>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(shared) = &self.shared {
            shared.announce.notify_one(); // lets the announcer see it is alone and stop
            if let Some(Some(pool)) = shared.listener.get() {
                drop(pool.close()); // marks it closed at once: the listener's wait ends
            }
        }
    }
}

impl Feed {
    /// A log followed within this process only (SQLite: one process writes it).
    pub fn new() -> Self {
        Feed::default()
    }

    /// The log `log` of `store`: on PostgreSQL also woken by commits other replicas make.
    pub fn of(store: &Store, log: &str) -> Self {
        let shared = store.url().is_some().then(|| Shared {
            store: store.clone(),
            channel: format!("{}.{log}", store.service().name()),
            me: crate::ids::new_id("feed"),
            announce: Arc::new(Notify::new()),
            listening: Arc::new(AtomicBool::new(false)),
            listener: OnceLock::new(),
        });
        Feed {
            inner: Arc::new(Inner {
                commits: Notify::new(),
                shared,
            }),
        }
    }

    /// Commits `tx`, which wrote to the log, and wakes every follower in this process (and,
    /// through the announcer, in the other replicas).
    pub async fn commit(&self, tx: Transaction<'static, Any>) -> Result<(), ServiceError> {
        tx.commit().await?;
        self.inner.commits.notify_waiters();
        if let Some(shared) = &self.inner.shared {
            self.start(shared);
            shared.announce.notify_one();
        }
        Ok(())
    }

    /// Starts the announcer and the listener, once.
    fn start(&self, shared: &Shared) {
        let Some(url) = shared.store.url() else {
            return;
        };
        shared.listener.get_or_init(|| {
            // The store opened with this URL, so it parses; if not, polling alone remains.
            let pool = PgPoolOptions::new()
                .max_connections(1)
                .acquire_timeout(RECONNECT * 5)
                .connect_lazy(url.expose())
                .ok()?;
            let feed = Arc::downgrade(&self.inner);
            tokio::spawn(announce(feed.clone()));
            tokio::spawn(listen(
                feed,
                pool.clone(),
                shared.channel.clone(),
                shared.me.clone(),
            ));
            Some(pool)
        });
    }

    fn poll(&self) -> Duration {
        match &self.inner.shared {
            // SQLite: one process writes the store, and it wakes its followers as it commits.
            None => POLL_TOLD,
            Some(shared) if shared.listening.load(Ordering::Relaxed) => POLL_TOLD,
            Some(_) => POLL,
        }
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
        if let Some(shared) = &self.inner.shared {
            self.start(shared);
        }
        let feed = self.clone();
        tokio::spawn(async move {
            loop {
                if *shutdown.borrow() {
                    return; // the suite is stopping: end the stream so it can
                }
                // Registered before reading, so a commit during the read is not missed.
                let committed = feed.inner.commits.notified();
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
                        () = tokio::time::sleep(feed.poll()) => {}
                        () = tx.closed() => return,
                        _ = shutdown.changed() => return,
                    }
                }
            }
        });
        ReceiverStream::new(rx)
    }
}

/// Sends one `NOTIFY` for the commits made since the last, until the feed is dropped. Sent
/// after the commit rather than inside it: a notifying transaction would serialise every commit
/// of the database on PostgreSQL's notification queue lock.
async fn announce(feed: Weak<Inner>) {
    loop {
        let Some((announce, store, channel, me)) = feed.upgrade().and_then(|inner| {
            let shared = inner.shared.as_ref()?;
            Some((
                shared.announce.clone(),
                shared.store.clone(),
                shared.channel.clone(),
                shared.me.clone(),
            ))
        }) else {
            return;
        };
        announce.notified().await;
        // A failed announcement is only latency: other replicas still poll.
        let _ = sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel)
            .bind(me)
            .execute(store.pool())
            .await;
    }
}

/// Wakes this process's followers whenever another process announces a commit, reconnecting
/// when the connection is lost (and waking them then, as a notification may have been missed).
/// Ends when the feed is dropped, which closes `pool`.
async fn listen(feed: Weak<Inner>, pool: PgPool, channel: String, me: String) {
    let wake = |feed: &Weak<Inner>| match feed.upgrade() {
        Some(inner) => {
            inner.commits.notify_waiters();
            true
        }
        None => false,
    };
    let listening = |on: bool| {
        if let Some(shared) = feed
            .upgrade()
            .as_ref()
            .and_then(|inner| inner.shared.as_ref())
        {
            shared.listening.store(on, Ordering::Relaxed);
        }
    };
    while !pool.is_closed() {
        let Ok(mut listener) = PgListener::connect_with(&pool).await else {
            tokio::time::sleep(RECONNECT).await;
            continue;
        };
        listener.eager_reconnect(false);
        if listener.listen(&channel).await.is_ok() {
            listening(true);
            // Until the connection is lost (`None`) or the pool closed (an error).
            while let Ok(Some(note)) = listener.try_recv().await {
                if note.payload() != me && !wake(&feed) {
                    return;
                }
            }
            listening(false);
        }
        if !wake(&feed) {
            return;
        }
        tokio::time::sleep(RECONNECT).await;
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
