//! What ingestion needs to know about devices, asked of the device registry through its
//! contract: is the device registered and active, which gateway it reports through, and which
//! patient it was bound to when.

use std::collections::HashMap;

use sentinel_clinical::attribution::{self, Attribution};
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
    pub bindings: Vec<DeviceBinding>,
}

/// A binding of the device, µs since the epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceBinding {
    pub start: i64,
    pub end: Option<i64>,
    /// The device user slot it is for; `None`: the whole device.
    pub user: Option<u8>,
    pub patient: String,
}

impl attribution::Binding for DeviceBinding {
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

impl DeviceInfo {
    /// The patient a reading observed `at` by device user `user` goes to, or why nobody.
    pub fn attribute(&self, at: i64, user: Option<Option<u8>>) -> Attribution<&str> {
        attribution::attribute(&self.bindings, at, user).map(|b| b.patient.as_str())
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
                Some(DeviceBinding {
                    start: b.start.as_ref().map(from_timestamp)?,
                    end: b.end.as_ref().map(from_timestamp),
                    // A slot out of range is no binding at all, never one for the whole device.
                    user: match b.user {
                        None => None,
                        Some(user) => Some(u8::try_from(user).ok()?),
                    },
                    patient: b.patient.as_ref()?.value.clone(),
                })
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
