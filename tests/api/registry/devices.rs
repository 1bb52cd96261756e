use sentinel_contract::registry::v1 as pb;
use sentinel_testkit::registry::{admin, register, spec};
use tonic::Code;
use tonic_types::StatusExt;

use super::{audited, stores, suite};

#[tokio::test]
async fn a_device_goes_through_its_lifecycle_and_every_step_is_audited() {
    for store in stores() {
        let suite = suite(store).await;
        let mut client = admin(&suite).await;
        let device = register(&mut client, "SN-1").await;
        assert_eq!(device.status(), pb::DeviceStatus::Active);
        assert!(device.id.starts_with("dev-"));

        let updated = client
            .update_device(pb::UpdateDeviceRequest {
                id: device.id.clone(),
                firmware_version: Some("3.2.0".into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(updated.spec.unwrap().firmware_version, "3.2.0");

        let change = |id: &str, reason: &str| pb::ChangeStatusRequest {
            id: id.into(),
            reason: reason.into(),
        };
        let suspended = client
            .suspend_device(change(&device.id, "battery swap"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(suspended.status(), pb::DeviceStatus::Suspended);
        let active = client
            .reactivate_device(change(&device.id, ""))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(active.status(), pb::DeviceStatus::Active);
        let gone = client
            .decommission_device(change(&device.id, "end of life"))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(gone.status(), pb::DeviceStatus::Decommissioned);
        let history: Vec<(pb::DeviceStatus, String)> = gone
            .history
            .iter()
            .map(|h| (h.status(), h.reason.clone()))
            .collect();
        assert_eq!(
            history,
            [
                (pb::DeviceStatus::Active, "registered".into()),
                (pb::DeviceStatus::Suspended, "battery swap".into()),
                (pb::DeviceStatus::Active, String::new()),
                (pb::DeviceStatus::Decommissioned, "end of life".into()),
            ]
        );
        let refused = client
            .reactivate_device(change(&device.id, ""))
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);

        let actions: Vec<String> = audited(&suite, &device.id)
            .await
            .into_iter()
            .map(|(a, who, _)| {
                assert_eq!(who, "admin");
                a
            })
            .collect();
        assert_eq!(
            actions,
            [
                "device.registered",
                "device.updated",
                "device.suspended",
                "device.reactivated",
                "device.decommissioned"
            ],
            "{}",
            store.name()
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn missing_and_malformed_fields_are_named_one_violation_each() {
    let suite = suite(sentinel_testkit::StoreKind::Sqlite).await;
    let mut client = admin(&suite).await;
    let mut bad = spec("");
    bad.transport = "carrier-pigeon".into();
    bad.expected_interval_seconds = 0;
    let status = client
        .register_device(pb::RegisterDeviceRequest { spec: Some(bad) })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .unwrap()
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(
        fields,
        [
            "spec.serial",
            "spec.transport",
            "spec.expected_interval_seconds"
        ]
    );
    let missing = client
        .register_device(pb::RegisterDeviceRequest { spec: None })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    suite.stop().await;
}

#[tokio::test]
async fn a_serial_is_unique_per_manufacturer_and_unknown_devices_are_not_found() {
    for store in stores() {
        let suite = suite(store).await;
        let mut client = admin(&suite).await;
        register(&mut client, "SN-7").await;
        let twice = client
            .register_device(pb::RegisterDeviceRequest {
                spec: Some(spec("SN-7")),
            })
            .await
            .unwrap_err();
        assert_eq!(twice.code(), Code::AlreadyExists, "{}", store.name());
        let mut other = spec("SN-7");
        other.manufacturer = "Other Corp".into();
        client
            .register_device(pb::RegisterDeviceRequest { spec: Some(other) })
            .await
            .unwrap();
        let unknown = client
            .get_device(pb::GetDeviceRequest {
                id: "dev-nope".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        let unknown = client
            .suspend_device(pb::ChangeStatusRequest {
                id: "dev-nope".into(),
                reason: String::new(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), Code::NotFound);
        suite.stop().await;
    }
}

#[tokio::test]
async fn devices_can_be_listed_by_kind_setting_status_and_patient_in_pages() {
    let suite = suite(sentinel_testkit::StoreKind::Sqlite).await;
    let mut client = admin(&suite).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(register(&mut client, &format!("SN-{i}")).await.id);
    }
    let mut scale = spec("SCALE-1");
    scale.kind = "smart-scale".into();
    scale.care_setting = "in-home".into();
    client
        .register_device(pb::RegisterDeviceRequest { spec: Some(scale) })
        .await
        .unwrap();
    client
        .suspend_device(pb::ChangeStatusRequest {
            id: ids[1].clone(),
            reason: String::new(),
        })
        .await
        .unwrap();
    client
        .bind_device(pb::BindDeviceRequest {
            device_id: ids[2].clone(),
            patient: sentinel_testkit::registry::patient("pt-42"),
            start: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let list = |request: pb::ListDevicesRequest| {
        let mut client = client.clone();
        async move { client.list_devices(request).await.unwrap().into_inner() }
    };
    let cgm = list(pb::ListDevicesRequest {
        kind: "continuous-glucose-monitor".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(cgm.devices.len(), 5);
    let home = list(pb::ListDevicesRequest {
        care_setting: "in-home".into(),
        ..Default::default()
    })
    .await;
    assert_eq!(home.devices.len(), 1);
    let suspended = list(pb::ListDevicesRequest {
        status: pb::DeviceStatus::Suspended.into(),
        ..Default::default()
    })
    .await;
    assert_eq!(
        suspended
            .devices
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>(),
        [ids[1].clone()]
    );
    let bound = list(pb::ListDevicesRequest {
        patient: sentinel_testkit::registry::patient("pt-42"),
        ..Default::default()
    })
    .await;
    assert_eq!(
        bound
            .devices
            .iter()
            .map(|d| d.id.clone())
            .collect::<Vec<_>>(),
        [ids[2].clone()]
    );
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(pb::ListDevicesRequest {
            page: Some(sentinel_contract::common::v1::PageRequest {
                page_size: 4,
                page_token: token,
            }),
            ..Default::default()
        })
        .await;
        seen.extend(page.devices.into_iter().map(|d| d.id));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(seen.len(), 6);
    suite.stop().await;
}
