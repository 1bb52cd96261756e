//! What ingestion needs to know about devices, asked of the device registry through its
//! contract: is the device registered and active, which gateway it reports through, and which
//! patient it was bound to when.

use std::collections::HashMap;

use sentinel_contract::registry::v1 as registry;
use sentinel_platform::{ServiceError, peer::Peer, time::from_timestamp};

/// A device as ingestion sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceInfo {
    pub id: String,
    pub status: registry::DeviceStatus,
    pub gateway_id: String,
    /// The manufacturer's serial; a LoRaWAN device's DevEUI.
    pub serial: String,
    /// IANA zone of the device's clock; empty when unknown.
    pub time_zone: String,
    /// (start, end, patient) of each binding, µs since the epoch.
    pub bindings: Vec<(i64, Option<i64>, String)>,
}

impl DeviceInfo {
    /// The patient the device was bound to at `at`.
    pub fn patient_at(&self, at: i64) -> Option<&str> {
        self.bindings
            .iter()
            .find(|(start, end, _)| *start <= at && end.is_none_or(|end| at < end))
            .map(|(_, _, patient)| patient.as_str())
    }
}

#[tonic::async_trait]
pub trait DeviceDirectory: Send + Sync + std::fmt::Debug {
    /// Each of `ids` with its device, or `None` when no such device is registered.
    async fn devices(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Option<DeviceInfo>>, ServiceError>;
}

/// The device registry, as a peer.
#[derive(Debug, Clone)]
pub struct RegistryDirectory {
    registry: Peer,
}

impl RegistryDirectory {
    pub fn new(registry: Peer) -> Self {
        RegistryDirectory { registry }
    }
}

fn unavailable(status: &tonic::Status) -> ServiceError {
    tracing::error!(code = ?status.code(), "the device registry could not answer");
    ServiceError::Unavailable(format!(
        "the device registry could not answer ({:?}); retry",
        status.code()
    ))
}

/// What ingestion keeps of a device and its binding history.
fn info(device: registry::Device, bindings: &[registry::Binding]) -> DeviceInfo {
    let status = device.status();
    let spec = device.spec.unwrap_or_default();
    DeviceInfo {
        id: device.id,
        status,
        gateway_id: spec.gateway_id,
        serial: spec.serial,
        time_zone: spec.time_zone,
        bindings: bindings
            .iter()
            .filter_map(|b| {
                Some((
                    b.start.as_ref().map(from_timestamp)?,
                    b.end.as_ref().map(from_timestamp),
                    b.patient.as_ref()?.value.clone(),
                ))
            })
            .collect(),
    }
}

#[tonic::async_trait]
impl DeviceDirectory for RegistryDirectory {
    async fn devices(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Option<DeviceInfo>>, ServiceError> {
        let mut found: HashMap<String, Option<DeviceInfo>> =
            ids.iter().map(|id| (id.clone(), None)).collect();
        let entries = self
            .registry
            .lookup_devices(ids)
            .await
            .map_err(|status| unavailable(&status))?;
        for entry in entries {
            if let Some(device) = entry.device {
                let device = info(device, &entry.bindings);
                found.insert(device.id.clone(), Some(device));
            }
        }
        Ok(found)
    }
}
