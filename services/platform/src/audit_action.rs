//! The closed set of audited actions. A new action is added here, with its FHIR AuditEvent
//! action code, before any service may record it.

/// FHIR R4 `AuditEvent.action`: Create, Read, Update, Delete, Execute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FhirAction {
    Create,
    Read,
    Update,
    Delete,
    Execute,
}

impl FhirAction {
    pub fn code(self) -> &'static str {
        match self {
            FhirAction::Create => "C",
            FhirAction::Read => "R",
            FhirAction::Update => "U",
            FhirAction::Delete => "D",
            FhirAction::Execute => "E",
        }
    }
}

macro_rules! actions {
    ($($variant:ident => $code:literal, $fhir:ident;)*) => {
        /// Every action Sentinel audits.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The stable code stored and hashed, e.g. `device.registered`.
            pub fn code(self) -> &'static str {
                match self {
                    $(Action::$variant => $code,)*
                }
            }

            pub fn fhir_action(self) -> FhirAction {
                match self {
                    $(Action::$variant => FhirAction::$fhir,)*
                }
            }

            pub fn from_code(code: &str) -> Option<Action> {
                match code {
                    $($code => Some(Action::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    DeviceRegistered => "device.registered", Create;
    DeviceUpdated => "device.updated", Update;
    DeviceSuspended => "device.suspended", Update;
    DeviceReactivated => "device.reactivated", Update;
    DeviceDecommissioned => "device.decommissioned", Update;
    DeviceBound => "device.bound", Create;
    DeviceUnbound => "device.unbound", Update;
    CredentialIssued => "credential.issued", Create;
    CredentialRotated => "credential.rotated", Update;
    CredentialRevoked => "credential.revoked", Update;
    ReadingsAccepted => "readings.accepted", Create;
    ReadingsQuarantined => "readings.quarantined", Create;
    ReadingsResubmitted => "readings.resubmitted", Execute;
    RuleDrafted => "rule.drafted", Create;
    RuleUpdated => "rule.updated", Update;
    RuleSubmitted => "rule.submitted", Update;
    RuleApproved => "rule.approved", Update;
    RuleRejected => "rule.rejected", Update;
    RuleLoaded => "rule.loaded", Create;
    RuleActivated => "rule.activated", Update;
    RuleRetired => "rule.retired", Update;
    RuleBacktested => "rule.backtested", Execute;
    AlertRaised => "alert.raised", Create;
    AlertUpdated => "alert.updated", Update;
    AlertEscalated => "alert.escalated", Update;
    AlertAcknowledged => "alert.acknowledged", Update;
    AlertSnoozed => "alert.snoozed", Update;
    AlertResolved => "alert.resolved", Update;
    News2Spo2ScaleSet => "news2.spo2_scale_set", Update;
    AuthDenied => "auth.denied", Execute;
    AuditExported => "audit.exported", Read;
    AuditVerified => "audit.verified", Execute;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for action in Action::ALL {
            assert_eq!(Action::from_code(action.code()), Some(*action));
            assert!(seen.insert(action.code()), "{} twice", action.code());
        }
        assert_eq!(Action::from_code("device.exploded"), None);
    }
}
