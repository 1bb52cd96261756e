//! Registry helpers shared by the integration tests and the BDD steps.

use sentinel_contract::{common::v1 as common, registry::v1 as pb};

use crate::{Authed, TestSuite};

pub type Client = pb::device_registry_client::DeviceRegistryClient<Authed>;

/// A complete, valid device spec with the given serial.
pub fn spec(serial: &str) -> pb::DeviceSpec {
    pb::DeviceSpec {
        serial: serial.to_owned(),
        manufacturer: "Acme Medical".to_owned(),
        model: "GlucoWatch 3".to_owned(),
        udi_di: "00812345678901".to_owned(),
        udi_pi: format!("(21){serial}"),
        firmware_version: "3.1.4".to_owned(),
        kind: "continuous-glucose-monitor".to_owned(),
        care_setting: "on-body".to_owned(),
        transport: "ble".to_owned(),
        security: "relies-on-gateway".to_owned(),
        gateway_id: "gw-home-7".to_owned(),
        expected_interval_seconds: 300,
        time_zone: String::new(),
    }
}

/// A client holding the suite's first admin credential.
pub async fn admin(suite: &TestSuite) -> Client {
    suite.registry_as(&suite.admin_token()).await
}

pub async fn register(client: &mut Client, serial: &str) -> pb::Device {
    client
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(spec(serial)),
        })
        .await
        .expect("register")
        .into_inner()
}

/// Registers a device as `spec`, bound to `patient_ref` from `bound_for_micros` ago on; its id.
pub async fn register_bound(
    client: &mut Client,
    spec: pb::DeviceSpec,
    patient_ref: &str,
    bound_for_micros: i64,
) -> String {
    let id = client
        .register_device(pb::RegisterDeviceRequest { spec: Some(spec) })
        .await
        .expect("register")
        .into_inner()
        .id;
    client
        .bind_device(pb::BindDeviceRequest {
            device_id: id.clone(),
            patient: patient(patient_ref),
            start: at(sentinel_platform::time::now_micros() - bound_for_micros),
            ..Default::default()
        })
        .await
        .expect("bound");
    id
}

/// Registers the device `serial`, binds it to `patient_ref` from `bound_for_micros` ago and
/// gives it a device credential: its id and bearer secret.
pub async fn device_with_credential(
    client: &mut Client,
    serial: &str,
    patient_ref: &str,
    bound_for_micros: i64,
) -> (String, String) {
    let id = register_bound(client, spec(serial), patient_ref, bound_for_micros).await;
    let (_, secret) = issue(client, pb::PrincipalKind::Device, &id, &["device"]).await;
    (id, secret)
}

/// Issues a credential and returns its bearer secret.
pub async fn issue(
    client: &mut Client,
    kind: pb::PrincipalKind,
    id: &str,
    roles: &[&str],
) -> (String, String) {
    let issued = client
        .issue_credential(pb::IssueCredentialRequest {
            kind: kind.into(),
            principal_id: id.to_owned(),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            expires_at: None,
        })
        .await
        .expect("issue")
        .into_inner();
    (issued.credential.expect("a credential").id, issued.secret)
}

pub fn patient(value: &str) -> Option<common::PatientRef> {
    Some(common::PatientRef {
        value: value.to_owned(),
    })
}

/// µs since the epoch as a protobuf timestamp.
pub fn at(micros: i64) -> Option<prost_types::Timestamp> {
    Some(sentinel_platform::time::to_timestamp(micros))
}
