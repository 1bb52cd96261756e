//! An alert's life: raised → acknowledged → resolved, with snooze for a bounded time and
//! escalation when nobody acknowledges. One open alert per (rule, patient): a repeat updates it.

use super::classification::Priority;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Raised,
    Acknowledged,
    Resolved,
}

/// What happened to an alert, as its change log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Raised,
    /// The condition was met again while the alert was open.
    Updated,
    Acknowledged,
    Snoozed,
    Escalated,
    Resolved,
}

impl Change {
    const ALL: [Change; 6] = [
        Change::Raised,
        Change::Updated,
        Change::Acknowledged,
        Change::Snoozed,
        Change::Escalated,
        Change::Resolved,
    ];

    /// The stable code stored in the change log and sent to watchers, e.g. `raised`.
    pub fn code(self) -> &'static str {
        match self {
            Change::Raised => "raised",
            Change::Updated => "updated",
            Change::Acknowledged => "acknowledged",
            Change::Snoozed => "snoozed",
            Change::Escalated => "escalated",
            Change::Resolved => "resolved",
        }
    }

    pub fn from_code(code: &str) -> Option<Change> {
        Change::ALL.into_iter().find(|c| c.code() == code)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub state: State,
    pub priority: Priority,
    /// µs since the epoch.
    pub raised_at: i64,
    pub snoozed_until: Option<i64>,
    /// Escalation tier reached: 0 is the first responder.
    pub tier: u32,
    pub last_escalated_at: i64,
    /// Readings that raised or updated it.
    pub readings: Vec<String>,
    pub urgent_floor: bool,
    pub latching: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The alert is resolved (or otherwise not in a state for the action).
    NotNow(String),
    /// An urgent floor cannot be snoozed.
    UrgentFloor,
    /// Snooze longer than allowed.
    TooLong { max_seconds: u32 },
}

/// What a repeat of the condition does to an open alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Opened anew.
    Raised,
    /// Folded into the open alert (deduplicated).
    Updated,
}

impl Alert {
    pub fn raise(
        priority: Priority,
        at: i64,
        readings: Vec<String>,
        urgent_floor: bool,
        latching: bool,
    ) -> Alert {
        Alert {
            state: State::Raised,
            priority,
            raised_at: at,
            snoozed_until: None,
            tier: 0,
            last_escalated_at: at,
            readings,
            urgent_floor,
            latching,
        }
    }

    pub fn is_open(&self) -> bool {
        self.state != State::Resolved
    }

    /// The condition seen again while the alert is open: the readings are added, nothing new
    /// is raised.
    pub fn repeat(&mut self, readings: &[String]) -> Repeat {
        for r in readings {
            if !self.readings.contains(r) {
                self.readings.push(r.clone());
            }
        }
        Repeat::Updated
    }

    pub fn acknowledge(&mut self) -> Result<(), Refusal> {
        match self.state {
            State::Raised => {
                self.state = State::Acknowledged;
                Ok(())
            }
            State::Acknowledged => Ok(()),
            State::Resolved => Err(Refusal::NotNow("the alert is resolved".to_owned())),
        }
    }

    pub fn resolve(&mut self) -> Result<(), Refusal> {
        if self.state == State::Resolved {
            return Err(Refusal::NotNow("the alert is resolved already".to_owned()));
        }
        self.state = State::Resolved;
        Ok(())
    }

    /// The condition cleared: non-latching alerts resolve themselves; latching ones wait for a
    /// person. Returns whether it resolved.
    pub fn condition_cleared(&mut self) -> bool {
        if self.latching || self.state == State::Resolved {
            return false;
        }
        self.state = State::Resolved;
        true
    }

    pub fn snooze(&mut self, now: i64, seconds: u32, max_seconds: u32) -> Result<(), Refusal> {
        if self.urgent_floor {
            return Err(Refusal::UrgentFloor);
        }
        if self.state == State::Resolved {
            return Err(Refusal::NotNow("the alert is resolved".to_owned()));
        }
        if seconds == 0 || seconds > max_seconds {
            return Err(Refusal::TooLong { max_seconds });
        }
        self.snoozed_until = Some(now + i64::from(seconds) * 1_000_000);
        Ok(())
    }

    pub fn is_snoozed(&self, now: i64) -> bool {
        self.snoozed_until.is_some_and(|until| now < until)
    }

    /// Escalates an alert nobody acknowledged within `after` µs of being raised (or last
    /// escalated): one priority step up and the next tier notified. Returns whether it did.
    pub fn escalate_if_due(&mut self, now: i64, after: i64) -> bool {
        if self.state != State::Raised
            || self.is_snoozed(now)
            || now - self.last_escalated_at < after
        {
            return false;
        }
        self.priority = self.priority.escalated();
        self.tier += 1;
        self.last_escalated_at = now;
        true
    }
}

/// Who an alert at `tier` is routed to: the tier's name, the last tier for anything beyond.
pub fn route(tiers: &[String], tier: u32) -> &str {
    let last = tiers.len().saturating_sub(1);
    tiers
        .get((tier as usize).min(last))
        .map_or("", String::as_str)
}

/// Technical alerts — conditions of the suite itself, such as its audit log being out — carry a
/// rule id with this prefix (no rule's id or name can: they are generated or lowercase with
/// hyphens) and no patient. They go to one route and are never escalated through the clinical
/// tiers.
pub const TECHNICAL_PREFIX: &str = "technical.";

/// The audit log cannot record actions (broken, tampered or unreachable).
pub const AUDIT_LOG_OUT: &str = "technical.audit-log-out";

pub fn is_technical(rule_id: &str) -> bool {
    rule_id.starts_with(TECHNICAL_PREFIX)
}

/// Where alerts go: clinical ones by escalation tier, technical ones to their own route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routes {
    pub tiers: Vec<String>,
    pub technical: String,
}

impl Routes {
    pub fn route(&self, technical: bool, tier: u32) -> &str {
        match technical {
            true => &self.technical,
            false => route(&self.tiers, tier),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tiers_route_to_their_names_and_the_last_keeps_the_rest() {
        let tiers: Vec<String> = ["bedside-nurse", "charge-nurse"]
            .iter()
            .map(|t| (*t).to_owned())
            .collect();
        assert_eq!(super::route(&tiers, 0), "bedside-nurse");
        assert_eq!(super::route(&tiers, 1), "charge-nurse");
        assert_eq!(super::route(&tiers, 5), "charge-nurse");
        let routes = super::Routes {
            tiers,
            technical: "admins".to_owned(),
        };
        assert_eq!(routes.route(true, 0), "admins");
        assert_eq!(routes.route(false, 1), "charge-nurse");
        assert!(super::is_technical(super::AUDIT_LOG_OUT));
        assert_eq!(super::route(&[], 0), "");
    }

    use super::*;

    #[test]
    fn change_codes_round_trip_and_are_unique() {
        let codes: std::collections::HashSet<&str> = Change::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), Change::ALL.len());
        for change in Change::ALL {
            assert_eq!(Change::from_code(change.code()), Some(change));
        }
        assert_eq!(Change::from_code("exploded"), None);
    }

    const S: i64 = 1_000_000;

    fn alert() -> Alert {
        Alert::raise(Priority::Medium, 0, vec!["r1".into()], false, false)
    }

    #[test]
    fn acknowledging_a_resolved_alert_is_refused() {
        let mut a = alert();
        a.acknowledge().unwrap();
        a.resolve().unwrap();
        assert!(matches!(a.acknowledge(), Err(Refusal::NotNow(_))));
    }

    #[test]
    fn repeats_update_the_open_alert() {
        let mut a = alert();
        assert_eq!(a.repeat(&["r2".into(), "r1".into()]), Repeat::Updated);
        assert_eq!(a.readings, ["r1", "r2"]);
    }

    #[test]
    fn unacknowledged_alerts_escalate_and_acknowledged_ones_do_not() {
        let mut a = alert();
        assert!(!a.escalate_if_due(299 * S, 300 * S));
        assert!(a.escalate_if_due(300 * S, 300 * S));
        assert_eq!((a.priority, a.tier), (Priority::High, 1));
        assert!(!a.escalate_if_due(400 * S, 300 * S));
        let mut b = alert();
        b.acknowledge().unwrap();
        assert!(!b.escalate_if_due(1_000 * S, 300 * S));
    }

    #[test]
    fn snooze_is_bounded_and_never_for_an_urgent_floor() {
        let mut a = alert();
        assert_eq!(
            a.snooze(0, 7_200, 3_600),
            Err(Refusal::TooLong { max_seconds: 3_600 })
        );
        a.snooze(0, 600, 3_600).unwrap();
        assert!(a.is_snoozed(599 * S) && !a.is_snoozed(600 * S));
        assert!(
            !a.escalate_if_due(500 * S, 300 * S),
            "a snoozed alert does not escalate"
        );
        let mut floor = Alert::raise(Priority::High, 0, vec![], true, false);
        assert_eq!(floor.snooze(0, 60, 3_600), Err(Refusal::UrgentFloor));
    }

    #[test]
    fn latching_alerts_wait_for_a_person() {
        let mut fall = Alert::raise(Priority::High, 0, vec![], false, true);
        assert!(!fall.condition_cleared());
        assert!(fall.is_open());
        let mut fever = alert();
        assert!(fever.condition_cleared());
        assert!(!fever.is_open());
    }
}
