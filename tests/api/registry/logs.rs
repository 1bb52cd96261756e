//! No secret and no patient reference reaches a log line: the binary runs with debug logging,
//! is driven through its API, and everything it logged is searched.

use std::{ffi::OsString, path::Path};

use sentinel_contract::registry::v1 as pb;
use sentinel_testkit::{
    Bearer,
    process::{self, Started},
    registry::{issue, patient, spec},
};

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");

#[tokio::test]
async fn no_secret_or_patient_reference_is_ever_logged() {
    let dir = tempfile::tempdir().unwrap();
    let addr = process::free_address();
    let args: Vec<OsString> = vec!["serve".into(), "--data-dir".into(), dir.path().into()];
    let env = vec![
        ("SENTINEL_LISTEN".to_owned(), addr.to_string()),
        ("SENTINEL_LOG__FILTER".to_owned(), "debug".to_owned()),
    ];
    let Started::Serving(server) = process::start(Path::new(SENTINEL), &args, &env, addr).await
    else {
        panic!("sentinel did not serve");
    };
    let process::FirstAdmin {
        token: admin_token,
        channel,
        registry: mut admin,
    } = process::first_admin(addr, dir.path()).await;
    let device = admin
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(spec("SN-LOG")),
        })
        .await
        .unwrap()
        .into_inner()
        .id;
    admin
        .bind_device(pb::BindDeviceRequest {
            device_id: device.clone(),
            patient: patient("pt-secret-ref-1234"),
            start: None,
            ..Default::default()
        })
        .await
        .unwrap();
    admin
        .patient_at(pb::PatientAtRequest {
            device_id: device.clone(),
            at: sentinel_testkit::registry::at(250_000_000_000_000_000), // year 9892
            ..Default::default()
        })
        .await
        .unwrap();
    let (_, secret) = issue(&mut admin, pb::PrincipalKind::Device, &device, &["device"]).await;
    let mut wrong = pb::device_registry_client::DeviceRegistryClient::with_interceptor(
        channel,
        Bearer::new("snt_cred-x.presented-secret-5678"),
    );
    let _ = wrong.get_device(pb::GetDeviceRequest { id: device }).await;

    let (status, log) = server.terminate().await;
    assert!(status.success());
    assert!(
        log.contains("device registered"),
        "the log has content at all:\n{log}"
    );
    assert!(
        log.contains("admin.token"),
        "the first admin credential's path is printed"
    );
    for secret_text in [
        admin_token.as_str(),
        secret.as_str(),
        "presented-secret-5678",
        "pt-secret-ref-1234",
    ] {
        let secret_part = secret_text.rsplit('.').next().unwrap();
        assert!(
            !log.contains(secret_part),
            "{secret_text:?} was logged:\n{log}"
        );
    }
}
