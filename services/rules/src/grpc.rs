//! gRPC handlers of `sentinel.rules.v1.ClinicalRules`: validate, identify the caller, call the
//! domain, map the error.

use sentinel_contract::rules::v1::clinical_rules_server::{ClinicalRules, ClinicalRulesServer};
use sentinel_platform::Store;

/// The `ClinicalRules` service over its store.
#[derive(Debug, Clone)]
pub struct ClinicalRulesApi {
    #[allow(dead_code)] // read by the RPCs its issue adds
    store: Store,
}

impl ClinicalRules for ClinicalRulesApi {}

/// The tonic service, ready to mount on a server.
pub fn server(store: Store) -> ClinicalRulesServer<ClinicalRulesApi> {
    ClinicalRulesServer::new(ClinicalRulesApi { store })
}
