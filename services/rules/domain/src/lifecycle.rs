//! A rule version's way from draft to use: draft → submitted → approved → active → retired,
//! with a second person's approval (four eyes) and no way back to editing once submitted. A new
//! version is a new draft; versions are never changed in place.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Draft,
    Submitted,
    Approved,
    Active,
    Retired,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Draft,
        Status::Submitted,
        Status::Approved,
        Status::Active,
        Status::Retired,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Submitted => "submitted",
            Status::Approved => "approved",
            Status::Active => "active",
            Status::Retired => "retired",
        }
    }

    pub fn from_code(code: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Update,
    Submit,
    Approve,
    /// Sent back to its author from review.
    Reject,
    Activate,
    Retire,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The step is not allowed from the version's status.
    NotNow { status: Status, step: Step },
    /// The author approving their own rule.
    OwnApproval,
}

impl Refusal {
    pub fn message(&self) -> String {
        match self {
            Refusal::NotNow { status, step } => {
                format!("a rule version that is {status:?} cannot take the step {step:?}")
            }
            Refusal::OwnApproval => {
                "a rule is approved by a rule-approver who is not its author (four eyes)".to_owned()
            }
        }
    }
}

/// The status after `actor` takes `step` on a version written by `author`.
pub fn take(status: Status, step: Step, actor: &str, author: &str) -> Result<Status, Refusal> {
    use Status::*;
    let next = match (status, step) {
        (Draft, Step::Update) => Draft,
        (Draft, Step::Submit) => Submitted,
        (Submitted, Step::Approve) => {
            if actor == author {
                return Err(Refusal::OwnApproval);
            }
            Approved
        }
        (Submitted, Step::Reject) => Draft,
        (Approved, Step::Activate) => Active,
        (Approved | Active, Step::Retire) => Retired,
        _ => return Err(Refusal::NotNow { status, step }),
    };
    Ok(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_way_to_use_needs_a_second_person() {
        let mut status = Status::Draft;
        status = take(status, Step::Update, "ann", "ann").unwrap();
        status = take(status, Step::Submit, "ann", "ann").unwrap();
        assert_eq!(
            take(status, Step::Approve, "ann", "ann"),
            Err(Refusal::OwnApproval)
        );
        status = take(status, Step::Approve, "bob", "ann").unwrap();
        status = take(status, Step::Activate, "bob", "ann").unwrap();
        assert_eq!(status, Status::Active);
        assert_eq!(
            take(status, Step::Retire, "bob", "ann"),
            Ok(Status::Retired)
        );
    }

    #[test]
    fn steps_out_of_order_are_refused() {
        assert!(matches!(
            take(Status::Draft, Step::Activate, "b", "a"),
            Err(Refusal::NotNow { .. })
        ));
        assert!(matches!(
            take(Status::Submitted, Step::Update, "a", "a"),
            Err(Refusal::NotNow { .. })
        ));
        assert!(matches!(
            take(Status::Retired, Step::Activate, "b", "a"),
            Err(Refusal::NotNow { .. })
        ));
        assert_eq!(
            take(Status::Submitted, Step::Reject, "b", "a"),
            Ok(Status::Draft)
        );
    }
}
