use sentinel_contract::registry::v1 as pb;
use sentinel_testkit::registry::{admin, at, patient, register};
use tonic::Code;

use super::{audited, stores, suite};

const HOUR: i64 = 3_600_000_000;

#[tokio::test]
async fn the_patient_at_a_time_follows_the_binding_history() {
    for store in stores() {
        let suite = suite(store).await;
        let mut client = admin(&suite).await;
        let device = register(&mut client, "SN-B").await.id;
        let t0 = 1_800_000_000_000_000;
        let first = client
            .bind_device(pb::BindDeviceRequest {
                device_id: device.clone(),
                patient: patient("pt-a"),
                start: at(t0),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        client
            .unbind_device(pb::UnbindDeviceRequest {
                device_id: device.clone(),
                end: at(t0 + 2 * HOUR),
                ..Default::default()
            })
            .await
            .unwrap();
        let second = client
            .bind_device(pb::BindDeviceRequest {
                device_id: device.clone(),
                patient: patient("pt-b"),
                start: at(t0 + 3 * HOUR),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();

        let who = |t: i64| {
            let mut client = client.clone();
            let device = device.clone();
            async move {
                client
                    .patient_at(pb::PatientAtRequest {
                        device_id: device,
                        at: at(t),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .patient
                    .map(|p| p.value)
            }
        };
        assert_eq!(who(t0 - 1).await, None);
        assert_eq!(who(t0).await.as_deref(), Some("pt-a"));
        assert_eq!(who(t0 + 2 * HOUR - 1).await.as_deref(), Some("pt-a"));
        assert_eq!(who(t0 + 2 * HOUR).await, None, "{}", store.name());
        assert_eq!(who(t0 + 5 * HOUR).await.as_deref(), Some("pt-b"));

        // An overlapping binding is refused, naming the binding it would overlap.
        let overlap = client
            .bind_device(pb::BindDeviceRequest {
                device_id: device.clone(),
                patient: patient("pt-c"),
                start: at(t0 + HOUR),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(overlap.code(), Code::FailedPrecondition);
        assert!(
            overlap.message().contains(&first.id) || overlap.message().contains(&second.id),
            "{}",
            overlap.message()
        );

        let history = client
            .list_bindings(pb::ListBindingsRequest {
                device_id: device.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(history.bindings.len(), 2);
        let actions: Vec<String> = audited(&suite, &device)
            .await
            .into_iter()
            .map(|(a, _, _)| a)
            .collect();
        assert_eq!(
            actions,
            [
                "device.registered",
                "device.bound",
                "device.unbound",
                "device.bound"
            ]
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn binding_errors_are_named() {
    let suite = suite(sentinel_testkit::StoreKind::Sqlite).await;
    let mut client = admin(&suite).await;
    let device = register(&mut client, "SN-E").await.id;
    let unknown = client
        .bind_device(pb::BindDeviceRequest {
            device_id: "dev-nope".into(),
            patient: patient("pt-a"),
            start: None,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let no_patient = client
        .bind_device(pb::BindDeviceRequest {
            device_id: device.clone(),
            patient: patient("Jane Doe"),
            start: None,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(no_patient.code(), Code::InvalidArgument);
    let not_bound = client
        .unbind_device(pb::UnbindDeviceRequest {
            device_id: device,
            end: None,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(not_bound.code(), Code::FailedPrecondition);
    suite.stop().await;
}
