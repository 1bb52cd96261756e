//! Who may call what: credentials, roles per RPC, rotation and revocation taking effect at once.

use sentinel_contract::registry::v1 as pb;
use sentinel_testkit::registry::{admin, issue, register, spec};
use tonic::Code;

use super::{audited, stores, suite};

#[tokio::test]
async fn calls_without_a_valid_credential_are_unauthenticated_and_audited() {
    for store in stores() {
        let suite = suite(store).await;
        let mut nobody =
            sentinel_contract::registry::v1::device_registry_client::DeviceRegistryClient::new(
                suite.channel().await,
            );
        let status = nobody
            .get_device(pb::GetDeviceRequest { id: "dev-1".into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        let mut forged = suite.registry_as("snt_cred-nope.not-a-secret").await;
        let status = forged
            .get_device(pb::GetDeviceRequest { id: "dev-1".into() })
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        let denials = audited(&suite, "GetDevice").await;
        assert_eq!(
            denials,
            [
                (
                    "auth.denied".into(),
                    "anonymous".into(),
                    "no_credential".into()
                ),
                (
                    "auth.denied".into(),
                    "anonymous".into(),
                    "unknown_or_revoked_credential".into()
                ),
            ],
            "{}",
            store.name()
        );
        suite.stop().await;
    }
}

#[tokio::test]
async fn each_rpc_admits_only_its_roles() {
    let suite = suite(sentinel_testkit::StoreKind::Sqlite).await;
    let mut admin = admin(&suite).await;
    let device = register(&mut admin, "SN-R").await.id;
    let (_, nurse) = issue(
        &mut admin,
        pb::PrincipalKind::User,
        "nurse-ann",
        &["clinician"],
    )
    .await;
    let (_, auditor) = issue(&mut admin, pb::PrincipalKind::User, "qa-bob", &["quality"]).await;
    let mut nurse = suite.registry_as(&nurse).await;
    let mut auditor = suite.registry_as(&auditor).await;

    // A clinician binds patients and reads devices, but does not register or issue.
    nurse
        .get_device(pb::GetDeviceRequest { id: device.clone() })
        .await
        .unwrap();
    nurse
        .bind_device(pb::BindDeviceRequest {
            device_id: device.clone(),
            patient: sentinel_testkit::registry::patient("pt-1"),
            start: None,
            ..Default::default()
        })
        .await
        .unwrap();
    let denied = nurse
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(spec("SN-X")),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = nurse
        .issue_credential(pb::IssueCredentialRequest {
            kind: pb::PrincipalKind::User.into(),
            principal_id: "x".into(),
            roles: vec!["admin".into()],
            expires_at: None,
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // Quality reads, never changes.
    auditor
        .list_credentials(pb::ListCredentialsRequest::default())
        .await
        .unwrap();
    let denied = auditor
        .suspend_device(pb::ChangeStatusRequest {
            id: device.clone(),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denied = auditor
        .authenticate(pb::AuthenticateRequest { bearer: "x".into() })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let denials: Vec<String> = super::audited(&suite, "RegisterDevice")
        .await
        .into_iter()
        .map(|(_, who, why)| format!("{who}:{why}"))
        .collect();
    assert_eq!(denials, ["nurse-ann:permission_denied"]);
    suite.stop().await;
}

#[tokio::test]
async fn a_device_sees_only_itself_and_a_gateway_only_its_devices() {
    let suite = suite(sentinel_testkit::StoreKind::Sqlite).await;
    let mut admin = admin(&suite).await;
    let mine = register(&mut admin, "SN-M").await.id;
    let mut elsewhere = spec("SN-O");
    elsewhere.gateway_id = "gw-other".into();
    let other = admin
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(elsewhere),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    let (_, device_secret) = issue(&mut admin, pb::PrincipalKind::Device, &mine, &["device"]).await;
    let (_, gateway_secret) = issue(
        &mut admin,
        pb::PrincipalKind::Gateway,
        "gw-home-7",
        &["gateway"],
    )
    .await;
    let mut device = suite.registry_as(&device_secret).await;
    device
        .get_device(pb::GetDeviceRequest { id: mine.clone() })
        .await
        .unwrap();
    let denied = device
        .get_device(pb::GetDeviceRequest { id: other.clone() })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let mut gateway = suite.registry_as(&gateway_secret).await;
    gateway
        .get_device(pb::GetDeviceRequest { id: mine })
        .await
        .unwrap();
    let denied = gateway
        .get_device(pb::GetDeviceRequest { id: other })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    // A device credential may only hold the device role, for a registered device.
    let wrong = admin
        .issue_credential(pb::IssueCredentialRequest {
            kind: pb::PrincipalKind::Device.into(),
            principal_id: "dev-nope".into(),
            roles: vec!["device".into()],
            expires_at: None,
        })
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::NotFound);
    let wrong = admin
        .issue_credential(pb::IssueCredentialRequest {
            kind: pb::PrincipalKind::Device.into(),
            principal_id: "x".into(),
            roles: vec!["admin".into()],
            expires_at: None,
        })
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Code::InvalidArgument);
    suite.stop().await;
}

#[tokio::test]
async fn rotation_and_revocation_take_effect_immediately() {
    for store in stores() {
        let suite = suite(store).await;
        let mut admin = admin(&suite).await;
        let (id, secret) = issue(
            &mut admin,
            pb::PrincipalKind::User,
            "integrator-1",
            &["integrator"],
        )
        .await;
        let mut old = suite.registry_as(&secret).await;
        old.list_devices(pb::ListDevicesRequest::default())
            .await
            .unwrap();

        let rotated = admin
            .rotate_credential(pb::CredentialRef { id: id.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_ne!(rotated.secret, secret);
        let status = old
            .list_devices(pb::ListDevicesRequest::default())
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated, "{}", store.name());
        let mut new = suite.registry_as(&rotated.secret).await;
        new.list_devices(pb::ListDevicesRequest::default())
            .await
            .unwrap();

        let new_id = rotated.credential.unwrap().id;
        admin
            .revoke_credential(pb::CredentialRef { id: new_id.clone() })
            .await
            .unwrap();
        let status = new
            .list_devices(pb::ListDevicesRequest::default())
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::Unauthenticated);
        let again = admin
            .revoke_credential(pb::CredentialRef { id: new_id.clone() })
            .await
            .unwrap_err();
        assert_eq!(again.code(), Code::FailedPrecondition);

        // Listing never shows a secret; revoked ones show when asked for.
        let listed = admin
            .list_credentials(pb::ListCredentialsRequest {
                principal_id: "integrator-1".into(),
                include_revoked: true,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(listed.credentials.len(), 2);
        assert!(listed.credentials.iter().all(|c| c.revoked_at.is_some()));
        let actions: Vec<String> = audited(&suite, &id)
            .await
            .into_iter()
            .map(|(a, _, _)| a)
            .collect();
        assert_eq!(actions, ["credential.issued", "credential.rotated"]);
        suite.stop().await;
    }
}

#[tokio::test]
async fn every_rpc_refuses_a_role_it_does_not_accept() {
    let suite = suite(sentinel_testkit::StoreKind::Sqlite).await;
    let mut admin = admin(&suite).await;
    let id = register(&mut admin, "SN-ALL").await.id;
    let (cred, device_secret) =
        issue(&mut admin, pb::PrincipalKind::Device, &id, &["device"]).await;
    let mut device = suite.registry_as(&device_secret).await;
    let change = || pb::ChangeStatusRequest {
        id: id.clone(),
        reason: String::new(),
    };
    let calls: Vec<(&str, Result<(), tonic::Status>)> = vec![
        (
            "RegisterDevice",
            device
                .register_device(pb::RegisterDeviceRequest {
                    spec: Some(spec("SN-Z")),
                })
                .await
                .map(drop),
        ),
        (
            "UpdateDevice",
            device
                .update_device(pb::UpdateDeviceRequest {
                    id: id.clone(),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "ListDevices",
            device
                .list_devices(pb::ListDevicesRequest::default())
                .await
                .map(drop),
        ),
        (
            "SuspendDevice",
            device.suspend_device(change()).await.map(drop),
        ),
        (
            "ReactivateDevice",
            device.reactivate_device(change()).await.map(drop),
        ),
        (
            "DecommissionDevice",
            device.decommission_device(change()).await.map(drop),
        ),
        (
            "BindDevice",
            device
                .bind_device(pb::BindDeviceRequest {
                    device_id: id.clone(),
                    patient: sentinel_testkit::registry::patient("pt-1"),
                    start: None,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "UnbindDevice",
            device
                .unbind_device(pb::UnbindDeviceRequest {
                    device_id: id.clone(),
                    end: None,
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "ListBindings",
            device
                .list_bindings(pb::ListBindingsRequest {
                    device_id: id.clone(),
                })
                .await
                .map(drop),
        ),
        (
            "PatientAt",
            device
                .patient_at(pb::PatientAtRequest {
                    device_id: id.clone(),
                    at: sentinel_testkit::registry::at(0),
                    ..Default::default()
                })
                .await
                .map(drop),
        ),
        (
            "IssueCredential",
            device
                .issue_credential(pb::IssueCredentialRequest {
                    kind: pb::PrincipalKind::Device.into(),
                    principal_id: id.clone(),
                    roles: vec!["device".into()],
                    expires_at: None,
                })
                .await
                .map(drop),
        ),
        (
            "ListCredentials",
            device
                .list_credentials(pb::ListCredentialsRequest::default())
                .await
                .map(drop),
        ),
        (
            "RotateCredential",
            device
                .rotate_credential(pb::CredentialRef { id: cred.clone() })
                .await
                .map(drop),
        ),
        (
            "RevokeCredential",
            device
                .revoke_credential(pb::CredentialRef { id: cred.clone() })
                .await
                .map(drop),
        ),
        (
            "Authenticate",
            device
                .authenticate(pb::AuthenticateRequest {
                    bearer: device_secret.clone(),
                })
                .await
                .map(drop),
        ),
    ];
    for (rpc, result) in calls {
        assert_eq!(
            result.map_err(|s| s.code()),
            Err(Code::PermissionDenied),
            "{rpc}"
        );
    }
    device
        .get_device(pb::GetDeviceRequest { id: id.clone() })
        .await
        .expect("its own device");
    let denied: Vec<String> = super::audited(&suite, "RotateCredential")
        .await
        .into_iter()
        .map(|(a, who, why)| format!("{a}:{who}:{why}"))
        .collect();
    assert_eq!(denied, [format!("auth.denied:{id}:permission_denied")]);
    suite.stop().await;
}
