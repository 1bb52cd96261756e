//! Which patient a reading belongs to: the binding of its device that covers the time it was
//! observed, and — on a device shared by several people (a home cuff, a family scale) — the
//! binding of the user the device says measured. A reading is never put on a patient the
//! device cannot vouch for: when it names no bound user, it stays on nobody and says why.

/// The flag of a glucose meter's test with control solution: a check of the meter, not a
/// measurement of anyone, so it is never put on a patient.
pub const CONTROL_SOLUTION: &str = "control-solution";

/// A binding of a device to a patient over `[start, end)` (µs since the epoch), for one of the
/// device's user slots or for the whole device.
pub trait Binding {
    fn start(&self) -> i64;
    /// `None` while the binding is open.
    fn end(&self) -> Option<i64>;
    /// The device's user slot the binding is for; `None`: the whole device, whoever measured.
    fn user(&self) -> Option<u8>;

    fn covers(&self, at: i64) -> bool {
        self.start() <= at && self.end().is_none_or(|end| at < end)
    }
}

/// Where a reading goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribution<B> {
    /// On the patient of this binding.
    Bound(B),
    /// On nobody: the device was bound to nobody at that time.
    Unbound,
    /// On nobody: the device is bound per user and names a user none of its bindings is for.
    UserNotBound,
    /// On nobody: the device is bound per user and could not tell who measured (Bluetooth's
    /// "unknown user").
    UserUnknown,
    /// On nobody: the device is bound per user and named no user at all.
    NoUser,
}

impl<B> Attribution<B> {
    /// The binding the reading goes to, if any.
    pub fn binding(self) -> Option<B> {
        match self {
            Attribution::Bound(binding) => Some(binding),
            _ => None,
        }
    }

    /// The same attribution, through `f`'s view of its binding.
    pub fn map<C>(self, f: impl FnOnce(B) -> C) -> Attribution<C> {
        match self {
            Attribution::Bound(binding) => Attribution::Bound(f(binding)),
            Attribution::Unbound => Attribution::Unbound,
            Attribution::UserNotBound => Attribution::UserNotBound,
            Attribution::UserUnknown => Attribution::UserUnknown,
            Attribution::NoUser => Attribution::NoUser,
        }
    }

    /// The flag an unattributed reading of a shared device carries, so a reader of the log
    /// sees why it is on nobody.
    pub fn flag(&self) -> Option<&'static str> {
        match self {
            Attribution::Bound(_) | Attribution::Unbound => None,
            Attribution::UserNotBound => Some("device-user-not-bound"),
            Attribution::UserUnknown => Some("device-user-unknown"),
            Attribution::NoUser => Some("device-user-missing"),
        }
    }
}

/// Where a reading observed `at` goes, by its device's `bindings` and the device `user` it
/// names (`Some(None)`: the unknown user; `None`: it names none). A binding for the whole
/// device takes every reading of its time, whoever measured; bindings per user take only
/// their own user's.
pub fn attribute<B: Binding>(bindings: &[B], at: i64, user: Option<Option<u8>>) -> Attribution<&B> {
    let mut covering = bindings.iter().filter(|b| b.covers(at)).peekable();
    if covering.peek().is_none() {
        return Attribution::Unbound;
    }
    let covering: Vec<&B> = covering.collect();
    if let Some(whole) = covering.iter().find(|b| b.user().is_none()) {
        return Attribution::Bound(whole);
    }
    match user {
        None => Attribution::NoUser,
        Some(None) => Attribution::UserUnknown,
        Some(Some(user)) => covering
            .into_iter()
            .find(|b| b.user() == Some(user))
            .map_or(Attribution::UserNotBound, Attribution::Bound),
    }
}

/// Whether two bindings of one device, for user slots `a` and `b`, may not both hold at one
/// time: one of them is for the whole device, or both are for the same user.
pub fn exclusive(a: Option<u8>, b: Option<u8>) -> bool {
    a.is_none() || b.is_none() || a == b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Span(i64, Option<i64>, Option<u8>, &'static str);

    impl Binding for Span {
        fn start(&self) -> i64 {
            self.0
        }
        fn end(&self) -> Option<i64> {
            self.1
        }
        fn user(&self) -> Option<u8> {
            self.2
        }
    }

    fn patient(attribution: Attribution<&Span>) -> Option<&'static str> {
        attribution.binding().map(|b| b.3)
    }

    fn shared() -> [Span; 2] {
        [
            Span(100, None, Some(1), "patient-a"),
            Span(100, None, Some(2), "patient-b"),
        ]
    }

    #[test]
    fn a_shared_device_puts_each_user_on_their_own_patient() {
        let shared = shared();
        assert_eq!(
            patient(attribute(&shared, 150, Some(Some(1)))),
            Some("patient-a")
        );
        assert_eq!(
            patient(attribute(&shared, 150, Some(Some(2)))),
            Some("patient-b")
        );
    }

    #[test]
    fn a_user_without_a_binding_is_never_put_on_another_user() {
        let shared = shared();
        assert_eq!(
            attribute(&shared, 150, Some(Some(3))),
            Attribution::UserNotBound
        );
        assert_eq!(
            attribute(&shared, 150, Some(None)),
            Attribution::UserUnknown
        );
        assert_eq!(attribute(&shared, 150, None), Attribution::NoUser);
        assert_eq!(attribute(&shared, 50, Some(Some(1))), Attribution::Unbound);
        assert_eq!(
            attribute(&shared, 150, Some(Some(3))).flag(),
            Some("device-user-not-bound")
        );
        assert_eq!(attribute(&shared, 50, None).flag(), None);
    }

    #[test]
    fn a_whole_device_binding_takes_every_reading_of_its_time() {
        let whole = [Span(100, Some(200), None, "patient-a")];
        for user in [None, Some(None), Some(Some(0)), Some(Some(7))] {
            assert_eq!(patient(attribute(&whole, 150, user)), Some("patient-a"));
        }
        assert_eq!(
            attribute(&whole, 200, None),
            Attribution::Unbound,
            "end is exclusive"
        );
    }

    #[test]
    fn only_different_users_share_a_time() {
        assert!(!exclusive(Some(1), Some(2)));
        assert!(exclusive(Some(1), Some(1)));
        assert!(exclusive(None, Some(1)));
        assert!(exclusive(None, None));
    }
}
