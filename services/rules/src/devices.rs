//! Devices as the rules service needs them — kind, care setting, expected interval, current
//! patient — asked of the device registry through its contract with this service's credential.

use std::{
    collections::HashMap,
    time::{Duration, Instant},
};

use sentinel_contract::registry::v1 as registry;
use sentinel_platform::{ServiceError, peer::Peer};

use crate::domain::{engine::Observed, silence::DeviceContext};

/// How long a device's kind and care setting are trusted before they are asked again.
const FRESH_FOR: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct Registry {
    registry: Peer,
}

/// What decides which rules apply to a device.
pub fn context(device: &registry::Device) -> DeviceContext {
    let spec = device.spec.clone().unwrap_or_default();
    DeviceContext {
        kind: spec.kind,
        care_setting: spec.care_setting,
    }
}

impl Registry {
    pub fn new(registry: Peer) -> Self {
        Registry { registry }
    }

    /// The registered devices among `ids` with their bindings (unknown ids are left out).
    pub async fn lookup(
        &self,
        ids: &[String],
    ) -> Result<Vec<(registry::Device, Vec<registry::Binding>)>, ServiceError> {
        let entries =
            self.registry.lookup_devices(ids).await.map_err(|s| {
                ServiceError::Unavailable(format!("device registry: {}", s.message()))
            })?;
        Ok(entries
            .into_iter()
            .filter_map(|d| Some((d.device?, d.bindings)))
            .collect())
    }

    /// The context of each of `ids` that is registered.
    pub async fn contexts(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, DeviceContext>, ServiceError> {
        Ok(self
            .lookup(ids)
            .await?
            .iter()
            .map(|(d, _)| (d.id.clone(), context(d)))
            .collect())
    }
}

/// The patients a device's open bindings are for, each once: one for a device bound as a
/// whole, one per bound user of a shared device.
pub fn current_patients(bindings: &[registry::Binding]) -> Vec<String> {
    let mut patients: Vec<String> = bindings
        .iter()
        .filter(|b| b.end.is_none())
        .filter_map(|b| b.patient.as_ref().map(|p| p.value.clone()))
        .filter(|p| !p.is_empty())
        .collect();
    patients.sort();
    patients.dedup();
    patients
}

/// Device contexts remembered for a minute, so each batch asks only about devices not seen
/// lately.
#[derive(Debug)]
pub struct ContextCache {
    registry: Registry,
    known: HashMap<String, (Option<DeviceContext>, Instant)>,
}

impl ContextCache {
    pub fn new(registry: Registry) -> Self {
        ContextCache {
            registry,
            known: HashMap::new(),
        }
    }

    /// Gives each of `readings` its device's kind and care setting (none for a device the
    /// registry does not know), as rules naming device kinds or care settings need.
    pub async fn enrich(&mut self, readings: &mut [Observed]) -> Result<(), ServiceError> {
        let ids: Vec<&str> = readings.iter().map(|o| o.device_id.as_str()).collect();
        let known = self.get(&ids).await?;
        for reading in readings {
            reading.device = known.get(&reading.device_id).cloned().flatten();
        }
        Ok(())
    }

    /// The context of each of `ids`; `None` for a device the registry does not know.
    async fn get(
        &mut self,
        ids: &[&str],
    ) -> Result<HashMap<String, Option<DeviceContext>>, ServiceError> {
        let mut stale: Vec<String> = ids
            .iter()
            .filter(|id| {
                self.known
                    .get(**id)
                    .is_none_or(|(_, at)| at.elapsed() > FRESH_FOR)
            })
            .map(|id| (*id).to_owned())
            .collect();
        stale.sort();
        stale.dedup();
        if !stale.is_empty() {
            let found = self.registry.contexts(&stale).await?;
            let now = Instant::now();
            for id in stale {
                let context = found.get(&id).cloned();
                self.known.insert(id, (context, now));
            }
        }
        Ok(ids
            .iter()
            .map(|id| {
                (
                    (*id).to_owned(),
                    self.known.get(*id).and_then(|(c, _)| c.clone()),
                )
            })
            .collect())
    }
}
