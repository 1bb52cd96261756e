//! Device silence: which patients have a device that has sent nothing for longer than a rule's
//! factor × the device's expected interval. Judged on the clock, not on a reading, so the
//! service asks this on a timer.

use std::collections::BTreeMap;

use super::{
    logic::silent,
    rule::{Logic, RuleDefinition},
};

/// What the registry says of a device that matters to which rules apply to it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceContext {
    pub kind: String,
    pub care_setting: String,
}

/// A device the silence rules watch: registered, active, bound now, with an expected interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Watched {
    pub device_id: String,
    /// The patient the device is bound to now.
    pub patient: String,
    pub context: DeviceContext,
    pub expected_interval_s: u32,
    /// When its latest reading was received, µs since the epoch.
    pub last_received_at: i64,
    pub last_reading_id: String,
}

/// For a silence rule: each patient with a silent device, and the last reading of each of that
/// patient's silent devices (so the alert says which device went quiet and since when). Devices
/// without an expected interval are never silent; other rules give nothing.
pub fn silent_patients(
    rule: &RuleDefinition,
    devices: &[Watched],
    now: i64,
) -> BTreeMap<String, Vec<String>> {
    let Logic::Silence { factor } = rule.logic else {
        return BTreeMap::new();
    };
    let mut silent_now: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for device in devices {
        if device.expected_interval_s == 0
            || !rule
                .applies_to
                .admits(&device.patient, Some(&device.context))
        {
            continue;
        }
        if silent(
            device.last_received_at,
            device.expected_interval_s,
            factor,
            now,
        ) {
            silent_now
                .entry(device.patient.clone())
                .or_default()
                .push(device.last_reading_id.clone());
        }
    }
    for readings in silent_now.values_mut() {
        readings.sort();
    }
    silent_now
}

#[cfg(test)]
mod tests;
