//! Steps of the device registry and caller identity.

use std::{ffi::OsString, path::Path};

use cucumber::{given, then, when};
use sentinel_contract::registry::v1 as pb;
use sentinel_testkit::{
    Bearer, TestSuite,
    process::{self, Started},
    registry::{Client, admin, at, issue, patient, register, spec},
};
use tonic_types::StatusExt;

use crate::world::SuiteWorld;

const SENTINEL: &str = env!("CARGO_BIN_EXE_sentinel");
/// Hour 0 of the binding scenarios, µs since the epoch.
const T0: i64 = 1_800_000_000_000_000;
const HOUR: i64 = 3_600_000_000;

fn suite(world: &SuiteWorld) -> &TestSuite {
    world.suite.as_ref().expect("a running suite")
}

async fn admin_client(world: &SuiteWorld) -> Client {
    admin(suite(world)).await
}

fn device_id(world: &SuiteWorld, name: &str) -> String {
    world
        .registry
        .devices
        .get(name)
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

/// Device `name` as the registry answers GetDevice to the admin.
async fn device(world: &SuiteWorld, name: &str) -> pb::Device {
    admin_client(world)
        .await
        .get_device(pb::GetDeviceRequest {
            id: device_id(world, name),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Keeps the outcome of a call for the `Then the call ...` steps.
fn outcome<T>(
    world: &mut SuiteWorld,
    result: Result<tonic::Response<T>, tonic::Status>,
) -> Option<T> {
    match result {
        Ok(response) => {
            world.registry.refused = None;
            Some(response.into_inner())
        }
        Err(status) => {
            world.registry.refused = Some(status);
            None
        }
    }
}

#[given(expr = "the admin registers device {string}")]
#[when(expr = "the admin registers device {string}")]
async fn registers(world: &mut SuiteWorld, name: String) {
    let mut client = admin_client(world).await;
    let device = register(&mut client, &name).await;
    world.registry.devices.insert(name, device.id);
}

#[when(expr = "the admin registers device {string} again")]
async fn registers_again(world: &mut SuiteWorld, name: String) {
    let mut client = admin_client(world).await;
    let result = client
        .register_device(pb::RegisterDeviceRequest {
            spec: Some(spec(&name)),
        })
        .await;
    outcome(world, result);
}

#[when(expr = "the admin registers a device whose {word} is {string}")]
async fn registers_malformed(world: &mut SuiteWorld, field: String, value: String) {
    let mut bad = spec("SN-BAD");
    match field.as_str() {
        "serial" => bad.serial = value,
        "care_setting" => bad.care_setting = value,
        "transport" => bad.transport = value,
        "kind" => bad.kind = value,
        other => panic!("no field {other} in these scenarios"),
    }
    let mut client = admin_client(world).await;
    let result = client
        .register_device(pb::RegisterDeviceRequest { spec: Some(bad) })
        .await;
    outcome(world, result);
}

#[when("the admin asks for an unknown device")]
async fn unknown_device(world: &mut SuiteWorld) {
    let mut client = admin_client(world).await;
    let result = client
        .get_device(pb::GetDeviceRequest {
            id: "dev-unknown".into(),
        })
        .await;
    outcome(world, result);
}

#[when(regex = r#"^the admin (suspends|reactivates|decommissions) device "([^"]+)"$"#)]
async fn changes_status(world: &mut SuiteWorld, change: String, name: String) {
    let mut client = admin_client(world).await;
    let request = pb::ChangeStatusRequest {
        id: device_id(world, &name),
        reason: format!("{change} in a scenario"),
    };
    let result = match change.as_str() {
        "suspends" => client.suspend_device(request).await,
        "reactivates" => client.reactivate_device(request).await,
        _ => client.decommission_device(request).await,
    };
    outcome(world, result).expect("the change succeeds");
}

#[then(expr = "device {string} has the status history {string}")]
async fn status_history(world: &mut SuiteWorld, name: String, expected: String) {
    let device = device(world, &name).await;
    let history: Vec<&str> = device
        .history
        .iter()
        .map(|h| match h.status() {
            pb::DeviceStatus::Active => "active",
            pb::DeviceStatus::Suspended => "suspended",
            pb::DeviceStatus::Decommissioned => "decommissioned",
            pb::DeviceStatus::Unspecified => "?",
        })
        .collect();
    assert_eq!(history.join(","), expected);
}

#[then(expr = "the admin reactivating device {string} is refused as FAILED_PRECONDITION")]
async fn reactivating_refused(world: &mut SuiteWorld, name: String) {
    let mut client = admin_client(world).await;
    let status = client
        .reactivate_device(pb::ChangeStatusRequest {
            id: device_id(world, &name),
            reason: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
}

/// The audit records about `subject`, as (action, actor id, reason, detail values).
async fn audit_about(
    world: &SuiteWorld,
    subject: &str,
) -> Vec<(String, String, String, Vec<String>)> {
    sentinel_testkit::audit::about(suite(world), subject)
        .await
        .into_iter()
        .map(|e| {
            (
                e.action,
                e.actor.map(|a| a.id).unwrap_or_default(),
                e.outcome.map(|o| o.reason).unwrap_or_default(),
                e.detail.into_values().collect(),
            )
        })
        .collect()
}

#[then(expr = "the audit log shows {string} for device {string} by {string}")]
async fn audit_for_device(world: &mut SuiteWorld, actions: String, name: String, actor: String) {
    let records = audit_about(world, &device_id(world, &name)).await;
    let got: Vec<String> = records.iter().map(|r| r.0.clone()).collect();
    assert_eq!(got.join(","), actions);
    assert!(records.iter().all(|r| r.1 == actor), "{records:?}");
}

#[then(regex = r"^the call is refused as ([A-Z_]+)$")]
async fn refused_as(world: &mut SuiteWorld, code: String) {
    let status = world
        .registry
        .refused
        .as_ref()
        .expect("the call was refused");
    assert_eq!(
        format!("{:?}", status.code())
            .to_uppercase()
            .replace('_', ""),
        code.replace('_', ""),
        "{status:?}"
    );
}

#[then(expr = "the call is refused as INVALID_ARGUMENT naming {string}")]
async fn refused_naming(world: &mut SuiteWorld, field: String) {
    let status = world
        .registry
        .refused
        .as_ref()
        .expect("the call was refused");
    assert_eq!(status.code(), tonic::Code::InvalidArgument);
    let fields: Vec<String> = status
        .get_details_bad_request()
        .expect("violations")
        .field_violations
        .into_iter()
        .map(|v| v.field)
        .collect();
    assert_eq!(fields, [field]);
}

#[then("the call succeeds")]
async fn succeeds(world: &mut SuiteWorld) {
    assert!(
        world.registry.refused.is_none(),
        "{:?}",
        world.registry.refused
    );
}

async fn bind(
    world: &mut SuiteWorld,
    name: &str,
    patient_ref: &str,
    start: i64,
) -> Option<pb::Binding> {
    bind_user(world, name, None, patient_ref, start).await
}

async fn bind_user(
    world: &mut SuiteWorld,
    name: &str,
    user: Option<u32>,
    patient_ref: &str,
    start: i64,
) -> Option<pb::Binding> {
    let mut client = admin_client(world).await;
    let request = pb::BindDeviceRequest {
        device_id: device_id(world, name),
        patient: patient(patient_ref),
        start: at(start),
        user,
    };
    let result = client.bind_device(request).await;
    let binding = outcome(world, result);
    if let Some(binding) = &binding {
        world
            .registry
            .bindings
            .insert(patient_ref.to_owned(), binding.id.clone());
    }
    binding
}

#[given(expr = "device {string} was bound to patient {string} from hour {int} to hour {int}")]
async fn bound_between(
    world: &mut SuiteWorld,
    name: String,
    patient_ref: String,
    from: i64,
    to: i64,
) {
    bind(world, &name, &patient_ref, T0 + from * HOUR)
        .await
        .expect("bound");
    let mut client = admin_client(world).await;
    client
        .unbind_device(pb::UnbindDeviceRequest {
            device_id: device_id(world, &name),
            end: at(T0 + to * HOUR),
            ..Default::default()
        })
        .await
        .expect("unbound");
}

#[given(expr = "device {string} was bound to patient {string} from hour {int} on")]
async fn bound_from(world: &mut SuiteWorld, name: String, patient_ref: String, from: i64) {
    bind(world, &name, &patient_ref, T0 + from * HOUR)
        .await
        .expect("bound");
}

#[when(expr = "device {string} is bound to patient {string} from hour {int}")]
async fn try_bind(world: &mut SuiteWorld, name: String, patient_ref: String, from: i64) {
    bind(world, &name, &patient_ref, T0 + from * HOUR).await;
}

#[then(
    regex = r#"^at hour (-?\d+) device "([^"]+)"(?: user (\d+))? was bound to (nobody|patient (\S+))$"#
)]
async fn bound_at(
    world: &mut SuiteWorld,
    hour: i64,
    name: String,
    user: String,
    _whom: String,
    patient_ref: String,
) {
    let mut client = admin_client(world).await;
    let answer = client
        .patient_at(pb::PatientAtRequest {
            device_id: device_id(world, &name),
            at: at(T0 + hour * HOUR),
            user: user.parse().ok(),
        })
        .await
        .unwrap()
        .into_inner();
    let expected = (!patient_ref.is_empty()).then_some(patient_ref);
    assert_eq!(answer.patient.map(|p| p.value), expected);
}

#[given(expr = "device {string} was bound for user {int} to patient {string} from hour {int} on")]
async fn user_bound_from(
    world: &mut SuiteWorld,
    name: String,
    user: u32,
    patient_ref: String,
    from: i64,
) {
    bind_user(world, &name, Some(user), &patient_ref, T0 + from * HOUR)
        .await
        .expect("bound");
}

#[when(expr = "device {string} is bound for user {int} to patient {string} from hour {int}")]
async fn try_bind_user(
    world: &mut SuiteWorld,
    name: String,
    user: u32,
    patient_ref: String,
    from: i64,
) {
    bind_user(world, &name, Some(user), &patient_ref, T0 + from * HOUR).await;
}

#[when(
    regex = r#"^device "([^"]+)" is unbound (?:for user (\d+)|without naming a user) at hour (\d+)$"#
)]
async fn try_unbind(world: &mut SuiteWorld, name: String, user: String, hour: i64) {
    let mut client = admin_client(world).await;
    let result = client
        .unbind_device(pb::UnbindDeviceRequest {
            device_id: device_id(world, &name),
            end: at(T0 + hour * HOUR),
            user: user.parse().ok(),
        })
        .await;
    outcome(world, result);
}

#[then(
    regex = r#"^device "([^"]+)" (?:has no single current patient|is now bound to patient "(\S+)")$"#
)]
async fn current_patient(world: &mut SuiteWorld, name: String, patient_ref: String) {
    let device = device(world, &name).await;
    let expected = (!patient_ref.is_empty()).then_some(patient_ref);
    assert_eq!(device.current_patient.map(|p| p.value), expected);
}

#[then(expr = "the call is refused as FAILED_PRECONDITION naming the binding of patient {string}")]
async fn overlap_named(world: &mut SuiteWorld, patient_ref: String) {
    let status = world
        .registry
        .refused
        .as_ref()
        .expect("the call was refused");
    assert_eq!(status.code(), tonic::Code::FailedPrecondition);
    let binding = &world.registry.bindings[&patient_ref];
    assert!(
        status.message().contains(binding.as_str()),
        "{}",
        status.message()
    );
}

#[when(
    expr = "sentinel serve runs with debug logging, binds a device to patient {string} and is called with a wrong credential"
)]
async fn binary_run(world: &mut SuiteWorld, patient_ref: String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = process::free_address();
    let args: Vec<OsString> = vec!["serve".into(), "--data-dir".into(), dir.path().into()];
    let mut env = vec![
        ("SENTINEL_LISTEN".to_owned(), addr.to_string()),
        ("SENTINEL_LOG__FILTER".to_owned(), "debug".to_owned()),
    ];
    if let Some(url) = SuiteWorld::database_url().await {
        env.push(("SENTINEL_DATABASE_URL".to_owned(), url));
    }
    let Started::Serving(server) = process::start(Path::new(SENTINEL), &args, &env, addr).await
    else {
        panic!("sentinel did not serve");
    };
    let process::FirstAdmin {
        token,
        channel,
        registry: mut client,
    } = process::first_admin(addr, dir.path()).await;
    let device = register(&mut client, "SN-LOGGED").await.id;
    client
        .bind_device(pb::BindDeviceRequest {
            device_id: device.clone(),
            patient: patient(&patient_ref),
            start: None,
            ..Default::default()
        })
        .await
        .expect("bound");
    let (_, device_secret) =
        issue(&mut client, pb::PrincipalKind::Device, &device, &["device"]).await;
    let wrong = "snt_cred-wrong.wrong-secret-presented-9";
    let mut intruder = pb::device_registry_client::DeviceRegistryClient::with_interceptor(
        channel,
        Bearer::new(wrong),
    );
    let _ = intruder
        .get_device(pb::GetDeviceRequest { id: device })
        .await;
    let (status, log) = server.terminate().await;
    assert!(status.success());
    world.registry.run = Some((
        dir,
        log,
        vec![token, device_secret, wrong.to_owned(), patient_ref],
    ));
}

#[then("the first admin credential is in a file only its owner can read, and it works")]
async fn admin_file(world: &mut SuiteWorld) {
    use std::os::unix::fs::PermissionsExt;
    let (dir, _, _) = world.registry.run.as_ref().expect("a run");
    let mode = std::fs::metadata(dir.path().join("admin.token"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // It worked: the run registered a device with it.
}

#[then("the log names that file but contains no credential secret and no patient reference")]
async fn log_clean(world: &mut SuiteWorld) {
    let (dir, log, secrets) = world.registry.run.as_ref().expect("a run");
    assert!(
        log.contains(&dir.path().join("admin.token").display().to_string()),
        "{log}"
    );
    for secret in secrets {
        let tail = secret.rsplit('.').next().unwrap_or(secret);
        assert!(!log.contains(tail), "{secret:?} was logged");
    }
}

#[when(expr = "a caller without a credential asks for device {string}")]
async fn anonymous(world: &mut SuiteWorld, name: String) {
    let mut client =
        pb::device_registry_client::DeviceRegistryClient::new(suite(world).channel().await);
    let result = client
        .get_device(pb::GetDeviceRequest {
            id: device_id(world, &name),
        })
        .await;
    outcome(world, result);
}

#[when(expr = "a caller with an unknown credential asks for device {string}")]
async fn unknown_caller(world: &mut SuiteWorld, name: String) {
    let mut client = suite(world)
        .registry_as("snt_cred-unknown.guessed-secret-value")
        .await;
    let result = client
        .get_device(pb::GetDeviceRequest {
            id: device_id(world, &name),
        })
        .await;
    outcome(world, result);
}

#[then(expr = "the audit log records auth.denied for {string} with reasons {string} and no secret")]
async fn denials_audited(world: &mut SuiteWorld, rpc: String, reasons: String) {
    let records = audit_about(world, &rpc).await;
    let got: Vec<String> = records.iter().map(|r| r.2.clone()).collect();
    assert_eq!(got.join(","), reasons);
    assert!(records.iter().all(|r| r.0 == "auth.denied"));
    assert!(
        records
            .iter()
            .flat_map(|r| r.3.iter())
            .all(|v| !v.contains("guessed-secret"))
    );
}

#[given(expr = "a user {string} holds the role {string}")]
async fn user_with_role(world: &mut SuiteWorld, user: String, role: String) {
    let mut client = admin_client(world).await;
    let credential = issue(
        &mut client,
        pb::PrincipalKind::User,
        &user,
        &[role.as_str()],
    )
    .await;
    world.registry.credentials.insert(user, credential);
}

async fn as_named(world: &SuiteWorld, name: &str) -> Client {
    let (_, secret) = &world.registry.credentials[name];
    suite(world).registry_as(secret).await
}

#[when(regex = r#"^"([^"]+)" calls (\w+) on device "([^"]+)"$"#)]
async fn calls(world: &mut SuiteWorld, user: String, rpc: String, name: String) {
    let mut client = as_named(world, &user).await;
    let id = device_id(world, &name);
    let result = match rpc.as_str() {
        "GetDevice" => client
            .get_device(pb::GetDeviceRequest { id })
            .await
            .map(|_| ()),
        "BindDevice" => client
            .bind_device(pb::BindDeviceRequest {
                device_id: id,
                patient: patient("pt-role"),
                start: None,
                ..Default::default()
            })
            .await
            .map(|_| ()),
        "RegisterDevice" => client
            .register_device(pb::RegisterDeviceRequest {
                spec: Some(spec("SN-ROLE")),
            })
            .await
            .map(|_| ()),
        "SuspendDevice" => client
            .suspend_device(pb::ChangeStatusRequest {
                id,
                reason: String::new(),
            })
            .await
            .map(|_| ()),
        "ListCredentials" => client
            .list_credentials(pb::ListCredentialsRequest::default())
            .await
            .map(|_| ()),
        "IssueCredential" => client
            .issue_credential(pb::IssueCredentialRequest {
                kind: pb::PrincipalKind::User.into(),
                principal_id: "x".into(),
                roles: vec!["admin".into()],
                expires_at: None,
            })
            .await
            .map(|_| ()),
        other => panic!("no call {other} in these scenarios"),
    };
    outcome(world, result.map(tonic::Response::new));
}

#[given(expr = "device {string} holds a device credential")]
async fn device_credential(world: &mut SuiteWorld, name: String) {
    let mut client = admin_client(world).await;
    let credential = issue(
        &mut client,
        pb::PrincipalKind::Device,
        &device_id(world, &name),
        &["device"],
    )
    .await;
    world.registry.credentials.insert(name, credential);
}

#[when(expr = "device {string} asks for device {string}")]
async fn device_asks(world: &mut SuiteWorld, caller: String, name: String) {
    let mut client = as_named(world, &caller).await;
    let result = client
        .get_device(pb::GetDeviceRequest {
            id: device_id(world, &name),
        })
        .await;
    outcome(world, result);
}

#[when(expr = "the admin rotates the credential of {string}")]
async fn rotates(world: &mut SuiteWorld, name: String) {
    let (id, old) = world.registry.credentials[&name].clone();
    let mut client = admin_client(world).await;
    let rotated = client
        .rotate_credential(pb::CredentialRef { id })
        .await
        .expect("rotated")
        .into_inner();
    world.registry.old_secrets.insert(name.clone(), old);
    let new_id = rotated.credential.expect("a credential").id;
    world
        .registry
        .credentials
        .insert(name, (new_id, rotated.secret));
}

#[when(expr = "the admin revokes the credential of {string}")]
async fn revokes(world: &mut SuiteWorld, name: String) {
    let (id, _) = world.registry.credentials[&name].clone();
    let mut client = admin_client(world).await;
    client
        .revoke_credential(pb::CredentialRef { id })
        .await
        .expect("revoked");
}

#[then(regex = r#"^"([^"]+)" with the (old|new) credential is refused as UNAUTHENTICATED$"#)]
async fn old_or_new_refused(world: &mut SuiteWorld, name: String, which: String) {
    let secret = if which == "old" {
        world.registry.old_secrets[&name].clone()
    } else {
        world.registry.credentials[&name].1.clone()
    };
    let mut client = suite(world).registry_as(&secret).await;
    let status = client
        .list_devices(pb::ListDevicesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::Unauthenticated);
}

#[then(expr = "{string} with the new credential can list devices")]
async fn new_works(world: &mut SuiteWorld, name: String) {
    let mut client = as_named(world, &name).await;
    client
        .list_devices(pb::ListDevicesRequest::default())
        .await
        .expect("listed");
}

#[then(expr = "the audit log shows {string} for the credential of {string}")]
async fn audit_for_credential(world: &mut SuiteWorld, actions: String, name: String) {
    // The user's first credential: the one issued, then replaced by rotation.
    let subject = {
        let mut client = admin_client(world).await;
        let listed = client
            .list_credentials(pb::ListCredentialsRequest {
                principal_id: name,
                include_revoked: true,
            })
            .await
            .unwrap()
            .into_inner();
        listed
            .credentials
            .iter()
            .find(|c| !c.replaced_by.is_empty())
            .expect("a rotated credential")
            .id
            .clone()
    };
    let got: Vec<String> = audit_about(world, &subject)
        .await
        .into_iter()
        .map(|r| r.0)
        .collect();
    assert_eq!(got.join(","), actions);
}
