//! Refused calls counted, not each recorded. The first denial of a kind (RPC, reason, caller) in
//! a window is audited in full; repeats in that window are only counted, and one summary record
//! per kind says how many there were once the window ends. Kinds per window are capped, the
//! rest counted together, so nobody who can reach the port — with or without a credential —
//! can grow the audit log or this process's memory faster than a fixed rate.
//!
//! This also breaks the loop a refused service-to-service call could start: recording a denial
//! calls the audit log, which may itself refuse (a revoked service credential) and record that
//! — a repeat, so counted, not another call.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, Weak},
    time::Duration,
};

use crate::auth::Caller;

/// Kinds of denial audited in full per window at most; beyond, denials are counted together.
pub const KINDS_PER_WINDOW: usize = 64;

/// The RPC named in the summary of denials beyond [`KINDS_PER_WINDOW`].
pub const OVERFLOW_RPC: &str = "*";

/// What kind of denial: the RPC, the reason and who, if known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Kind {
    pub rpc: &'static str,
    pub reason: &'static str,
    /// The caller's id; empty for a caller without a valid credential.
    pub caller_id: String,
}

/// Whether a denial is to be recorded now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noted {
    /// The first of its kind in this window: record it in full.
    First,
    /// A repeat (or beyond the cap): counted for the window's summary.
    Counted,
}

/// The repeats of one kind in a window that ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub kind: Kind,
    pub caller: Option<Caller>,
    pub repeated: u64,
}

#[derive(Debug, Default)]
struct Window {
    kinds: HashMap<Kind, (Option<Caller>, u64)>,
    /// Denials of kinds beyond the cap.
    overflow: u64,
}

/// One service's denials of the current window.
#[derive(Debug)]
pub struct Denials {
    window: Duration,
    current: Mutex<Window>,
}

impl Denials {
    pub fn new(window: Duration) -> Arc<Denials> {
        Arc::new(Denials {
            window,
            current: Mutex::new(Window::default()),
        })
    }

    pub fn window(&self) -> Duration {
        self.window
    }

    /// Notes a denial of `kind` by `caller`.
    pub fn note(&self, kind: Kind, caller: Option<&Caller>) -> Noted {
        let mut current = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, repeats)) = current.kinds.get_mut(&kind) {
            *repeats += 1;
            return Noted::Counted;
        }
        if current.kinds.len() >= KINDS_PER_WINDOW {
            current.overflow += 1;
            return Noted::Counted;
        }
        current.kinds.insert(kind, (caller.cloned(), 0));
        Noted::First
    }

    /// Ends the window: the kinds that repeated, with the denials beyond the cap as one
    /// summary under [`OVERFLOW_RPC`].
    pub fn end_window(&self) -> Vec<Summary> {
        let ended = std::mem::take(&mut *self.current.lock().unwrap_or_else(|p| p.into_inner()));
        let mut summaries: Vec<Summary> = ended
            .kinds
            .into_iter()
            .filter(|(_, (_, repeated))| *repeated > 0)
            .map(|(kind, (caller, repeated))| Summary {
                kind,
                caller,
                repeated,
            })
            .collect();
        if ended.overflow > 0 {
            summaries.push(Summary {
                kind: Kind {
                    rpc: OVERFLOW_RPC,
                    reason: "more_kinds_than_recorded",
                    caller_id: String::new(),
                },
                caller: None,
                repeated: ended.overflow,
            });
        }
        summaries.sort_by(|a, b| (a.kind.rpc, a.kind.reason).cmp(&(b.kind.rpc, b.kind.reason)));
        summaries
    }
}

/// Ends `denials`' window every window length and hands the summaries to `record`, until
/// every other handle on `denials` is gone.
pub fn spawn_summaries<F, Fut>(denials: &Arc<Denials>, record: F)
where
    F: Fn(Vec<Summary>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let weak: Weak<Denials> = Arc::downgrade(denials);
    let every = denials.window;
    runtime.spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            let Some(denials) = weak.upgrade() else {
                return;
            };
            let summaries = denials.end_window();
            drop(denials);
            if !summaries.is_empty() {
                record(summaries).await;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(rpc: &'static str, caller: &str) -> Kind {
        Kind {
            rpc,
            reason: "no_credential",
            caller_id: caller.to_owned(),
        }
    }

    #[test]
    fn the_first_of_a_kind_is_recorded_and_repeats_are_summarised() {
        let denials = Denials::new(Duration::from_secs(60));
        assert_eq!(denials.note(kind("GetDevice", ""), None), Noted::First);
        for _ in 0..999 {
            assert_eq!(denials.note(kind("GetDevice", ""), None), Noted::Counted);
        }
        assert_eq!(denials.note(kind("ListDevices", ""), None), Noted::First);
        let summaries = denials.end_window();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].kind.rpc, "GetDevice");
        assert_eq!(summaries[0].repeated, 999);
        // A new window records the first again.
        assert_eq!(denials.note(kind("GetDevice", ""), None), Noted::First);
        assert!(denials.end_window().is_empty());
    }

    #[test]
    fn kinds_beyond_the_cap_are_counted_together() {
        let denials = Denials::new(Duration::from_secs(60));
        let callers: Vec<String> = (0..KINDS_PER_WINDOW + 10)
            .map(|n| format!("c{n}"))
            .collect();
        let first = callers
            .iter()
            .filter(|c| denials.note(kind("GetDevice", c), None) == Noted::First)
            .count();
        assert_eq!(first, KINDS_PER_WINDOW);
        let summaries = denials.end_window();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].kind.rpc, OVERFLOW_RPC);
        assert_eq!(summaries[0].repeated, 10);
    }
}
