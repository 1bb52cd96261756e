//! gRPC handlers of `sentinel.registry.v1.DeviceRegistry`: validate, identify the caller, call the
//! domain, map the error.

use sentinel_contract::registry::v1::device_registry_server::{
    DeviceRegistry, DeviceRegistryServer,
};
use sentinel_platform::Store;

/// The `DeviceRegistry` service over its store.
#[derive(Debug, Clone)]
pub struct DeviceRegistryApi {
    #[allow(dead_code)] // read by the RPCs its issue adds
    store: Store,
}

impl DeviceRegistry for DeviceRegistryApi {}

/// The tonic service, ready to mount on a server.
pub fn server(store: Store) -> DeviceRegistryServer<DeviceRegistryApi> {
    DeviceRegistryServer::new(DeviceRegistryApi { store })
}
