//! Refused callers are slowed down. Each refused call (no credential, an unknown, expired or
//! revoked one, a missing role) counts against who made it: the credential it presented when
//! that names one, the caller when it was known, and otherwise the address it came from. Past a
//! burst of refusals (`audit.refused_burst`, default [`BURST`]), refilled at
//! `audit.refused_per_minute` (default [`PER_MINUTE`]), further calls of that key are
//! answered RESOURCE_EXHAUSTED with RetryInfo before any credential is looked up, until the
//! budget refills. Admitted calls cost nothing, and keys are not addresses when a credential
//! says more: a gateway behind the hospital's NAT is not held back by another one's mistakes,
//! nor a service by another service's revoked credential.

use std::{
    collections::HashMap,
    num::NonZeroU32,
    sync::{
        Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};

/// Refusals one key may collect at once...
pub const BURST: u32 = 200;
/// ... and how fast its budget refills.
pub const PER_MINUTE: u32 = 600;
/// Keys held back at most at once (the oldest holds are let go first when full).
const MAX_HELD: usize = 4096;
/// The shortest hold.
const MIN_HOLD: Duration = Duration::from_millis(100);

/// The refusal budgets of one service.
#[derive(Debug)]
pub struct Throttle {
    budgets: DefaultKeyedRateLimiter<String>,
    held: Mutex<HashMap<String, Instant>>,
    refusals: AtomicU64,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(PER_MINUTE, BURST)
    }
}

impl Throttle {
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let nonzero = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(nonzero(per_minute)).allow_burst(nonzero(burst));
        Throttle {
            budgets: DefaultKeyedRateLimiter::keyed(quota),
            held: Mutex::new(HashMap::new()),
            refusals: AtomicU64::new(0),
        }
    }

    /// How long calls of `key` are still held back, if they are.
    pub fn held(&self, key: &str) -> Option<Duration> {
        let mut held = self.held.lock().ok()?;
        let until = *held.get(key)?;
        match until.checked_duration_since(Instant::now()) {
            Some(left) if !left.is_zero() => Some(left),
            _ => {
                held.remove(key);
                None
            }
        }
    }

    /// A call of `key` was refused: past its budget, `key` is held back until it refills.
    pub fn refused(&self, key: &str) {
        if let Err(not_until) = self.budgets.check_key(&key.to_owned()) {
            let wait = not_until
                .wait_time_from(DefaultClock::default().now())
                .max(MIN_HOLD);
            if let Ok(mut held) = self.held.lock() {
                let now = Instant::now();
                if held.len() >= MAX_HELD {
                    held.retain(|_, until| *until > now);
                }
                if held.len() < MAX_HELD {
                    held.insert(key.to_owned(), now + wait);
                }
            }
        }
        // Budgets of keys not refused lately are forgotten now and then: memory stays bounded.
        if self.refusals.fetch_add(1, Ordering::Relaxed) % 1024 == 1023 {
            self.budgets.retain_recent();
            self.budgets.shrink_to_fit();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_held_back_past_its_burst_and_others_are_not() {
        let throttle = Throttle::new(60, 3);
        for _ in 0..3 {
            assert_eq!(throttle.held("addr:10.0.0.7"), None);
            throttle.refused("addr:10.0.0.7");
        }
        throttle.refused("addr:10.0.0.7");
        let left = throttle.held("addr:10.0.0.7").expect("held back");
        assert!(
            left <= Duration::from_secs(1) && left >= MIN_HOLD / 2,
            "{left:?}"
        );
        assert_eq!(throttle.held("addr:10.0.0.8"), None);
        assert_eq!(throttle.held("credential:cred-1"), None);
    }
}
