//! Proto ↔ domain conversions of the registry contract.

use sentinel_contract::{common::v1 as common, registry::v1 as pb};
use sentinel_platform::auth::{Caller, CallerKind};

use crate::{
    domain::{
        binding::Binding,
        device::{Device, DeviceSpec, DeviceStatus},
    },
    storage::StoredCredential,
};

pub use sentinel_platform::time::{checked_from_timestamp as micros, to_timestamp as timestamp};

pub fn spec(spec: pb::DeviceSpec) -> DeviceSpec {
    DeviceSpec {
        serial: spec.serial,
        manufacturer: spec.manufacturer,
        model: spec.model,
        udi_di: spec.udi_di,
        udi_pi: spec.udi_pi,
        firmware_version: spec.firmware_version,
        kind: spec.kind,
        care_setting: spec.care_setting,
        transport: spec.transport,
        security: spec.security,
        gateway_id: spec.gateway_id,
        expected_interval_seconds: spec.expected_interval_seconds,
        time_zone: spec.time_zone,
    }
}

fn status(status: DeviceStatus) -> pb::DeviceStatus {
    match status {
        DeviceStatus::Active => pb::DeviceStatus::Active,
        DeviceStatus::Suspended => pb::DeviceStatus::Suspended,
        DeviceStatus::Decommissioned => pb::DeviceStatus::Decommissioned,
    }
}

pub fn status_code(status: pb::DeviceStatus) -> &'static str {
    match status {
        pb::DeviceStatus::Unspecified => "",
        pb::DeviceStatus::Active => "active",
        pb::DeviceStatus::Suspended => "suspended",
        pb::DeviceStatus::Decommissioned => "decommissioned",
    }
}

pub fn device(device: &Device) -> pb::Device {
    let spec = &device.spec;
    pb::Device {
        id: device.id.clone(),
        spec: Some(pb::DeviceSpec {
            serial: spec.serial.clone(),
            manufacturer: spec.manufacturer.clone(),
            model: spec.model.clone(),
            udi_di: spec.udi_di.clone(),
            udi_pi: spec.udi_pi.clone(),
            firmware_version: spec.firmware_version.clone(),
            kind: spec.kind.clone(),
            care_setting: spec.care_setting.clone(),
            transport: spec.transport.clone(),
            security: spec.security.clone(),
            gateway_id: spec.gateway_id.clone(),
            expected_interval_seconds: spec.expected_interval_seconds,
            time_zone: spec.time_zone.clone(),
        }),
        status: status(device.status).into(),
        history: device
            .history
            .iter()
            .map(|entry| pb::StatusChange {
                status: status(entry.status).into(),
                at: Some(timestamp(entry.at)),
                reason: entry.reason.clone(),
                by: entry.by.clone(),
            })
            .collect(),
        registered_at: Some(timestamp(device.registered_at)),
        current_patient: device
            .current_patient
            .clone()
            .map(|value| common::PatientRef { value }),
    }
}

pub fn binding(binding: &Binding) -> pb::Binding {
    pb::Binding {
        id: binding.id.clone(),
        device_id: binding.device_id.clone(),
        patient: Some(common::PatientRef {
            value: binding.patient.clone(),
        }),
        start: Some(timestamp(binding.start)),
        end: binding.end.map(timestamp),
        user: binding.user.map(u32::from),
    }
}

pub fn kind(kind: i32) -> Option<CallerKind> {
    match pb::PrincipalKind::try_from(kind).ok()? {
        pb::PrincipalKind::User => Some(CallerKind::User),
        pb::PrincipalKind::Device => Some(CallerKind::Device),
        pb::PrincipalKind::Gateway => Some(CallerKind::Gateway),
        pb::PrincipalKind::Service => Some(CallerKind::Service),
        pb::PrincipalKind::Unspecified => None,
    }
}

fn principal_kind(code: &str) -> pb::PrincipalKind {
    match CallerKind::from_code(code) {
        Some(CallerKind::User) => pb::PrincipalKind::User,
        Some(CallerKind::Device) => pb::PrincipalKind::Device,
        Some(CallerKind::Gateway) => pb::PrincipalKind::Gateway,
        Some(CallerKind::Service) => pb::PrincipalKind::Service,
        None => pb::PrincipalKind::Unspecified,
    }
}

pub fn principal(credential: &StoredCredential) -> pb::Principal {
    pb::Principal {
        kind: principal_kind(&credential.principal_kind).into(),
        id: credential.principal_id.clone(),
        roles: credential.roles.clone(),
        credential_id: credential.id.clone(),
    }
}

pub fn credential(credential: &StoredCredential) -> pb::Credential {
    pb::Credential {
        id: credential.id.clone(),
        principal: Some(principal(credential)),
        issued_at: Some(timestamp(credential.issued_at)),
        revoked_at: credential.revoked_at.map(timestamp),
        replaced_by: credential.replaced_by.clone(),
        expires_at: credential.expires_at.map(timestamp),
    }
}

/// An authenticated caller as the registry tells other services of it.
pub fn principal_of(caller: &Caller) -> pb::Principal {
    pb::Principal {
        kind: principal_kind(caller.kind.code()).into(),
        id: caller.id.clone(),
        roles: caller.roles.iter().map(|r| r.code().to_owned()).collect(),
        credential_id: caller.credential_id.clone(),
    }
}
