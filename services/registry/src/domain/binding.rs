//! Which patient a device was bound to, and when. A device is bound as a whole or, when
//! several people share it (a home cuff, a family scale), per user slot; bindings that would
//! hold at one time never overlap unless they are for different users, so the patient of a
//! reading is unambiguous (`sentinel_clinical::attribution`).

use sentinel_clinical::attribution::{self, Attribution};
use sentinel_platform::ServiceError;

/// A binding over `[start, end)`; `end` is `None` while it is open. Times are µs since the
/// epoch, UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub id: String,
    pub device_id: String,
    /// An opaque reference held by the hospital's systems; never a name or an MRN.
    pub patient: String,
    pub start: i64,
    pub end: Option<i64>,
    /// The device's user slot (0 to 254) the binding is for; `None`: the whole device.
    pub user: Option<u8>,
}

impl attribution::Binding for Binding {
    fn start(&self) -> i64 {
        self.start
    }
    fn end(&self) -> Option<i64> {
        self.end
    }
    fn user(&self) -> Option<u8> {
        self.user
    }
}

/// Whether a new binding from `start` (open-ended) for `user` may join `existing`; names the
/// binding it would overlap.
pub fn check_new(existing: &[Binding], start: i64, user: Option<u8>) -> Result<(), ServiceError> {
    match existing.iter().find(|b| {
        attribution::exclusive(b.user, user)
            && (b.end.is_none_or(|end| end > start) || b.start >= start)
    }) {
        Some(conflict) => Err(ServiceError::FailedPrecondition(format!(
            "the device{} is bound from {} {} by binding {}: unbind it first",
            conflict
                .user
                .map_or(String::new(), |user| format!("'s user {user}")),
            conflict.start,
            conflict
                .end
                .map_or("on (open)".to_owned(), |end| format!("to {end}")),
            conflict.id
        ))),
        None => Ok(()),
    }
}

/// The open binding of a device, to close at `end`: the one of `user` when named, else the
/// device's only open binding.
pub fn open_binding(
    existing: &[Binding],
    end: i64,
    user: Option<u8>,
) -> Result<&Binding, ServiceError> {
    let mut open = existing
        .iter()
        .filter(|b| b.end.is_none() && (user.is_none() || b.user == user));
    let found = open.next().ok_or_else(|| {
        ServiceError::FailedPrecondition(match user {
            Some(user) => format!("the device's user {user} is not bound to anyone"),
            None => "the device is not bound to anyone".to_owned(),
        })
    })?;
    if open.next().is_some() {
        return Err(ServiceError::field(
            "user",
            "the device is bound per user to several patients: name the user to unbind",
        ));
    }
    if end <= found.start {
        return Err(ServiceError::field(
            "end",
            format!("must be after the binding's start ({})", found.start),
        ));
    }
    Ok(found)
}

/// The binding a reading observed `at` by `user` (`Some(None)`: the unknown user; `None`: no
/// user named) would be attributed through.
pub fn at(existing: &[Binding], at: i64, user: Option<Option<u8>>) -> Attribution<&Binding> {
    attribution::attribute(existing, at, user)
}

/// A device user slot from the wire: a Bluetooth user index, 0 to 254 (255 is the unknown
/// user, never a slot).
pub fn check_user(user: Option<u32>) -> Result<Option<u8>, ServiceError> {
    user.map(|user| {
        u8::try_from(user)
            .ok()
            .filter(|user| *user != u8::MAX)
            .ok_or_else(|| ServiceError::field("user", "must be a device user index, 0 to 254"))
    })
    .transpose()
}

/// A patient reference is opaque, but must look like an identifier, never like free text.
pub fn check_patient_ref(patient: &str) -> Result<(), ServiceError> {
    if patient.is_empty()
        || patient.len() > 128
        || patient.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(ServiceError::field(
            "patient.value",
            "must be an opaque reference of 1 to 128 characters without spaces",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(id: &str, start: i64, end: Option<i64>) -> Binding {
        Binding {
            id: id.into(),
            device_id: "dev-1".into(),
            patient: format!("patient-{id}"),
            start,
            end,
            user: None,
        }
    }

    fn slot(id: &str, start: i64, end: Option<i64>, user: u8) -> Binding {
        Binding {
            user: Some(user),
            ..binding(id, start, end)
        }
    }

    #[test]
    fn the_patient_at_a_time_follows_the_history() {
        let history = [
            binding("a", 100, Some(200)),
            binding("b", 200, Some(300)),
            binding("c", 400, None),
        ];
        assert_eq!(at(&history, 99, None), Attribution::Unbound);
        assert_eq!(at(&history, 100, None).binding().unwrap().id, "a");
        assert_eq!(at(&history, 199, None).binding().unwrap().id, "a");
        assert_eq!(
            at(&history, 200, None).binding().unwrap().id,
            "b",
            "end is exclusive, start inclusive"
        );
        assert_eq!(at(&history, 350, None), Attribution::Unbound);
        assert_eq!(at(&history, 10_000, None).binding().unwrap().id, "c");
    }

    #[test]
    fn a_new_binding_may_not_overlap_any_other() {
        let closed = [binding("a", 100, Some(200))];
        assert!(check_new(&closed, 200, None).is_ok());
        assert!(check_new(&closed, 250, None).is_ok());
        let err = check_new(&closed, 150, None).unwrap_err();
        assert!(err.to_string().contains("binding a"), "{err}");
        assert!(
            check_new(&closed, 50, None).is_err(),
            "an open binding from before would cover it"
        );
        let open = [binding("b", 100, None)];
        assert!(check_new(&open, 5_000, None).is_err());
    }

    #[test]
    fn unbinding_closes_the_open_binding_after_its_start() {
        let history = [binding("a", 100, Some(200)), binding("b", 300, None)];
        assert_eq!(open_binding(&history, 400, None).unwrap().id, "b");
        assert!(open_binding(&history, 300, None).is_err());
        assert!(open_binding(&history[..1], 400, None).is_err());
    }

    #[test]
    fn users_of_a_shared_device_are_bound_side_by_side_never_over_one_another() {
        let shared = [slot("a", 100, None, 1)];
        assert!(check_new(&shared, 150, Some(2)).is_ok(), "another user");
        let same = check_new(&shared, 150, Some(1)).unwrap_err();
        assert!(same.to_string().contains("user 1"), "{same}");
        assert!(
            check_new(&shared, 150, None).is_err(),
            "the whole device over a user"
        );
        let whole = [binding("w", 100, None)];
        assert!(
            check_new(&whole, 150, Some(1)).is_err(),
            "a user over the whole device"
        );
    }

    #[test]
    fn unbinding_a_shared_device_names_the_user() {
        let shared = [slot("a", 100, None, 1), slot("b", 100, None, 2)];
        assert_eq!(open_binding(&shared, 200, Some(2)).unwrap().id, "b");
        let which = open_binding(&shared, 200, None).unwrap_err();
        assert!(which.to_string().contains("user"), "{which}");
        assert!(open_binding(&shared, 200, Some(3)).is_err());
        assert_eq!(open_binding(&shared[..1], 200, None).unwrap().id, "a");
    }

    #[test]
    fn the_patient_of_a_user_is_that_users_binding() {
        let shared = [slot("a", 100, None, 1), slot("b", 100, None, 2)];
        assert_eq!(at(&shared, 150, Some(Some(2))).binding().unwrap().id, "b");
        assert_eq!(at(&shared, 150, Some(Some(3))), Attribution::UserNotBound);
        assert_eq!(at(&shared, 150, None), Attribution::NoUser);
    }

    #[test]
    fn a_user_slot_is_a_bluetooth_user_index() {
        assert_eq!(check_user(None).unwrap(), None);
        assert_eq!(check_user(Some(0)).unwrap(), Some(0));
        assert_eq!(check_user(Some(254)).unwrap(), Some(254));
        assert!(
            check_user(Some(255)).is_err(),
            "the unknown user is no slot"
        );
        assert!(check_user(Some(1_000)).is_err());
    }
}
