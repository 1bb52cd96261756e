//! Which patient a device was bound to, and when. Bindings of one device never overlap, so the
//! patient at any instant is unambiguous.

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
}

impl Binding {
    pub fn covers(&self, at: i64) -> bool {
        self.start <= at && self.end.is_none_or(|end| at < end)
    }
}

/// Whether a new binding from `start` (open-ended) may join `existing`; names the binding it
/// would overlap.
pub fn check_new(existing: &[Binding], start: i64) -> Result<(), ServiceError> {
    match existing
        .iter()
        .find(|b| b.end.is_none_or(|end| end > start) || b.start >= start)
    {
        Some(conflict) => Err(ServiceError::FailedPrecondition(format!(
            "the device is bound from {} {} by binding {}: unbind it first",
            conflict.start,
            conflict
                .end
                .map_or("on (open)".to_owned(), |end| format!("to {end}")),
            conflict.id
        ))),
        None => Ok(()),
    }
}

/// The open binding of a device, to close at `end`.
pub fn open_binding(existing: &[Binding], end: i64) -> Result<&Binding, ServiceError> {
    let open = existing.iter().find(|b| b.end.is_none()).ok_or_else(|| {
        ServiceError::FailedPrecondition("the device is not bound to anyone".to_owned())
    })?;
    if end <= open.start {
        return Err(ServiceError::field(
            "end",
            format!("must be after the binding's start ({})", open.start),
        ));
    }
    Ok(open)
}

/// The binding covering `at`, if any.
pub fn at(existing: &[Binding], at: i64) -> Option<&Binding> {
    existing.iter().find(|b| b.covers(at))
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
        }
    }

    #[test]
    fn the_patient_at_a_time_follows_the_history() {
        let history = [
            binding("a", 100, Some(200)),
            binding("b", 200, Some(300)),
            binding("c", 400, None),
        ];
        assert_eq!(at(&history, 99), None);
        assert_eq!(at(&history, 100).unwrap().id, "a");
        assert_eq!(at(&history, 199).unwrap().id, "a");
        assert_eq!(
            at(&history, 200).unwrap().id,
            "b",
            "end is exclusive, start inclusive"
        );
        assert_eq!(at(&history, 350), None);
        assert_eq!(at(&history, 10_000).unwrap().id, "c");
    }

    #[test]
    fn a_new_binding_may_not_overlap_any_other() {
        let closed = [binding("a", 100, Some(200))];
        assert!(check_new(&closed, 200).is_ok());
        assert!(check_new(&closed, 250).is_ok());
        let err = check_new(&closed, 150).unwrap_err();
        assert!(err.to_string().contains("binding a"), "{err}");
        assert!(
            check_new(&closed, 50).is_err(),
            "an open binding from before would cover it"
        );
        let open = [binding("b", 100, None)];
        assert!(check_new(&open, 5_000).is_err());
    }

    #[test]
    fn unbinding_closes_the_open_binding_after_its_start() {
        let history = [binding("a", 100, Some(200)), binding("b", 300, None)];
        assert_eq!(open_binding(&history, 400).unwrap().id, "b");
        assert!(open_binding(&history, 300).is_err());
        assert!(open_binding(&history[..1], 400).is_err());
    }
}
