//! Devices: what the hospital registered, checked field by field, and their lifecycle.

use sentinel_platform::{FieldViolation, ServiceError};

/// Device kinds Sentinel knows today; the set is open (any lowercase code is accepted), these
/// are the ones the rules and decoders know by name.
pub const KNOWN_KINDS: &[&str] = &[
    "continuous-glucose-monitor",
    "ecg-wearable",
    "blood-pressure-cuff",
    "smart-scale",
    "thermometer",
    "pulse-oximeter",
    "fall-detecting-accelerometer",
    "infusion-pump",
    "ventilator",
    "patient-monitor",
];
pub use sentinel_clinical::care::SETTINGS as CARE_SETTINGS;
pub const TRANSPORTS: &[&str] = &[
    "ble", "zigbee", "lorawan", "wifi", "cellular", "nfc", "rfid", "wired",
];
pub const SECURITY: &[&str] = &["end-to-end-encrypted", "relies-on-gateway"];

/// The longest reporting interval accepted: a week.
const MAX_INTERVAL_SECONDS: u32 = 7 * 24 * 3600;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceSpec {
    pub serial: String,
    pub manufacturer: String,
    pub model: String,
    pub udi_di: String,
    pub udi_pi: String,
    pub firmware_version: String,
    pub kind: String,
    pub care_setting: String,
    pub transport: String,
    pub security: String,
    pub gateway_id: String,
    pub expected_interval_seconds: u32,
    /// IANA zone of the device's clock; empty when unknown.
    pub time_zone: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    Active,
    Suspended,
    Decommissioned,
}

impl DeviceStatus {
    pub fn code(self) -> &'static str {
        match self {
            DeviceStatus::Active => "active",
            DeviceStatus::Suspended => "suspended",
            DeviceStatus::Decommissioned => "decommissioned",
        }
    }

    pub fn from_code(code: &str) -> Option<DeviceStatus> {
        match code {
            "active" => Some(DeviceStatus::Active),
            "suspended" => Some(DeviceStatus::Suspended),
            "decommissioned" => Some(DeviceStatus::Decommissioned),
            _ => None,
        }
    }
}

/// One step of a device's status history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEntry {
    pub status: DeviceStatus,
    pub at: i64,
    pub reason: String,
    pub by: String,
}

/// A registered device as the registry knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: String,
    pub spec: DeviceSpec,
    pub status: DeviceStatus,
    pub registered_at: i64,
    pub history: Vec<StatusEntry>,
    /// The patient bound now (opaque reference), if any.
    pub current_patient: Option<String>,
}

/// A lifecycle step a caller asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Suspend,
    Reactivate,
    Decommission,
}

impl Transition {
    /// The status `from` moves to, or why it cannot.
    pub fn apply(self, from: DeviceStatus) -> Result<DeviceStatus, ServiceError> {
        use DeviceStatus::{Active, Decommissioned, Suspended};
        match (self, from) {
            (Transition::Suspend, Active) => Ok(Suspended),
            (Transition::Reactivate, Suspended) => Ok(Active),
            (Transition::Decommission, Active | Suspended) => Ok(Decommissioned),
            (_, Decommissioned) => Err(ServiceError::FailedPrecondition(
                "the device is decommissioned; that is final".to_owned(),
            )),
            (transition, status) => Err(ServiceError::FailedPrecondition(format!(
                "cannot {} a device that is {}",
                transition.verb(),
                status.code()
            ))),
        }
    }

    pub fn verb(self) -> &'static str {
        match self {
            Transition::Suspend => "suspend",
            Transition::Reactivate => "reactivate",
            Transition::Decommission => "decommission",
        }
    }
}

fn required(field: &str, value: &str, max: usize, violations: &mut Vec<FieldViolation>) {
    if value.trim().is_empty() {
        violations.push(FieldViolation::new(field, "must not be empty"));
    } else if value.len() > max {
        violations.push(FieldViolation::new(
            field,
            format!("must be at most {max} bytes"),
        ));
    } else if value.chars().any(char::is_control) {
        violations.push(FieldViolation::new(
            field,
            "must not contain control characters",
        ));
    }
}

fn one_of(field: &str, value: &str, allowed: &[&str], violations: &mut Vec<FieldViolation>) {
    if !allowed.contains(&value) {
        violations.push(FieldViolation::new(
            field,
            format!("must be one of {}", allowed.join(", ")),
        ));
    }
}

/// A lowercase code: `[a-z0-9-]`, 1..=64.
pub fn is_code(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 64
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

impl DeviceSpec {
    /// Every problem with the spec, one violation each, named as the request names the field.
    pub fn violations(&self, prefix: &str) -> Vec<FieldViolation> {
        let mut violations = Vec::new();
        self.check_identity(prefix, &mut violations);
        self.check_setting(prefix, &mut violations);
        self.check_reporting(prefix, &mut violations);
        violations
    }

    /// What the device is: serial, maker, model, UDI, firmware, kind.
    fn check_identity(&self, prefix: &str, violations: &mut Vec<FieldViolation>) {
        let field = |name: &str| format!("{prefix}{name}");
        required(&field("serial"), &self.serial, 128, violations);
        required(&field("manufacturer"), &self.manufacturer, 128, violations);
        required(&field("model"), &self.model, 128, violations);
        required(&field("udi_di"), &self.udi_di, 64, violations);
        if self.udi_pi.len() > 128 {
            violations.push(FieldViolation::new(
                field("udi_pi"),
                "must be at most 128 bytes",
            ));
        }
        required(
            &field("firmware_version"),
            &self.firmware_version,
            64,
            violations,
        );
        if !is_code(&self.kind) {
            violations.push(FieldViolation::new(
                field("kind"),
                format!(
                    "must be a lowercase code such as {}",
                    KNOWN_KINDS.join(", ")
                ),
            ));
        }
    }

    /// Where it is used and how it connects: care setting, transport, security, gateway.
    fn check_setting(&self, prefix: &str, violations: &mut Vec<FieldViolation>) {
        let field = |name: &str| format!("{prefix}{name}");
        one_of(
            &field("care_setting"),
            &self.care_setting,
            CARE_SETTINGS,
            violations,
        );
        one_of(&field("transport"), &self.transport, TRANSPORTS, violations);
        one_of(&field("security"), &self.security, SECURITY, violations);
        if self.security == "relies-on-gateway" && self.gateway_id.is_empty() {
            violations.push(FieldViolation::new(
                field("gateway_id"),
                "must name the gateway a device relying on its gateway's security reports through",
            ));
        }
        if !self.gateway_id.is_empty() && !is_code(&self.gateway_id) {
            violations.push(FieldViolation::new(
                field("gateway_id"),
                "must be a lowercase id of a-z, 0-9 and -",
            ));
        }
    }

    /// How it reports: its expected interval and its clock's time zone.
    fn check_reporting(&self, prefix: &str, violations: &mut Vec<FieldViolation>) {
        let field = |name: &str| format!("{prefix}{name}");
        let interval = self.expected_interval_seconds;
        if interval == 0 || interval > MAX_INTERVAL_SECONDS {
            violations.push(FieldViolation::new(
                field("expected_interval_seconds"),
                format!("must be between 1 and {MAX_INTERVAL_SECONDS} seconds"),
            ));
        }
        if !self.time_zone.is_empty() && jiff::tz::TimeZone::get(&self.time_zone).is_err() {
            violations.push(FieldViolation::new(
                field("time_zone"),
                format!(
                    "`{}` is not an IANA time zone such as Europe/Berlin",
                    self.time_zone
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn spec() -> DeviceSpec {
        DeviceSpec {
            serial: "SN-1".into(),
            manufacturer: "Acme Medical".into(),
            model: "GlucoWatch 3".into(),
            udi_di: "00812345678901".into(),
            udi_pi: "(10)LOT42(21)SN-1".into(),
            firmware_version: "3.1.4".into(),
            kind: "continuous-glucose-monitor".into(),
            care_setting: "on-body".into(),
            transport: "ble".into(),
            security: "relies-on-gateway".into(),
            gateway_id: "gw-home-7".into(),
            expected_interval_seconds: 300,
            time_zone: "Europe/Berlin".into(),
        }
    }

    #[test]
    fn a_complete_spec_has_no_violations() {
        assert!(spec().violations("spec.").is_empty());
        let kinds_grow = DeviceSpec {
            kind: "smart-inhaler".into(),
            ..spec()
        };
        assert!(
            kinds_grow.violations("spec.").is_empty(),
            "the kind set is open"
        );
    }

    #[test]
    fn each_problem_is_one_violation_naming_its_field() {
        let bad = DeviceSpec {
            serial: String::new(),
            care_setting: "in-space".into(),
            transport: "carrier-pigeon".into(),
            gateway_id: String::new(),
            expected_interval_seconds: 0,
            ..spec()
        };
        let fields: Vec<String> = bad
            .violations("spec.")
            .into_iter()
            .map(|v| v.field)
            .collect();
        assert_eq!(
            fields,
            [
                "spec.serial",
                "spec.care_setting",
                "spec.transport",
                "spec.gateway_id",
                "spec.expected_interval_seconds"
            ]
        );
    }

    #[test]
    fn the_lifecycle_allows_only_its_steps() {
        use DeviceStatus::*;
        assert_eq!(Transition::Suspend.apply(Active).unwrap(), Suspended);
        assert_eq!(Transition::Reactivate.apply(Suspended).unwrap(), Active);
        assert_eq!(
            Transition::Decommission.apply(Suspended).unwrap(),
            Decommissioned
        );
        assert!(Transition::Reactivate.apply(Active).is_err());
        assert!(Transition::Suspend.apply(Suspended).is_err());
        for step in [
            Transition::Suspend,
            Transition::Reactivate,
            Transition::Decommission,
        ] {
            assert!(step.apply(Decommissioned).is_err());
        }
    }

    #[test]
    fn time_zone_must_be_an_iana_zone() {
        let mut bad = spec();
        bad.time_zone = "Mars/Olympus".into();
        let violations = bad.violations("spec.");
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].field, "spec.time_zone");
        bad.time_zone = String::new();
        assert!(bad.violations("spec.").is_empty());
    }
}
