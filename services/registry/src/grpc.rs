//! gRPC handlers of `sentinel.registry.v1.DeviceRegistry`. Every handler reads the same way:
//! admit the caller for the roles the RPC accepts, convert and check the request, call the
//! registry, convert the answer.

mod convert;

use sentinel_contract::{
    common::v1 as common,
    registry::v1::{
        self as pb,
        device_registry_server::{DeviceRegistry, DeviceRegistryServer},
    },
};
use sentinel_platform::{
    ServiceError,
    auth::Role::{self, Admin, Clinician, Gateway, Integrator, Quality, Service},
    gate::Gatekeeper,
    page::Page,
    time::now_micros,
};
use tonic::{Request, Response, Status};

use crate::{
    domain::{binding, credential, device::Transition},
    registry::{DeviceChanges, Registry},
    storage::DeviceFilter,
};

const STAFF: &[Role] = &[Admin, Integrator, Clinician, Quality];

/// The `DeviceRegistry` service over the registry.
#[derive(Debug, Clone)]
pub struct DeviceRegistryApi {
    registry: Registry,
    gate: Gatekeeper,
}

/// The tonic service, ready to mount on a server.
pub fn server(registry: Registry, gate: Gatekeeper) -> DeviceRegistryServer<DeviceRegistryApi> {
    DeviceRegistryServer::new(DeviceRegistryApi { registry, gate })
}

type Reply<T> = Result<Response<T>, Status>;

fn reply<T>(value: T) -> Reply<T> {
    Ok(Response::new(value))
}

fn required_id(field: &str, id: &str) -> Result<(), ServiceError> {
    if id.is_empty() {
        return Err(ServiceError::field(field, "must not be empty"));
    }
    Ok(())
}

#[tonic::async_trait]
impl DeviceRegistry for DeviceRegistryApi {
    #[tracing::instrument(skip_all)]
    async fn register_device(
        &self,
        request: Request<pb::RegisterDeviceRequest>,
    ) -> Reply<pb::Device> {
        let (caller, role) = self
            .gate
            .admit(&request, "RegisterDevice", &[Admin, Integrator])
            .await?;
        let spec = request
            .into_inner()
            .spec
            .ok_or_else(|| ServiceError::field("spec", "is required"))?;
        let device = self
            .registry
            .register(&caller, role, convert::spec(spec))
            .await?;
        tracing::info!(device_id = %device.id, "device registered");
        reply(convert::device(&device))
    }

    #[tracing::instrument(skip_all)]
    async fn get_device(&self, request: Request<pb::GetDeviceRequest>) -> Reply<pb::Device> {
        let roles = [
            Admin,
            Integrator,
            Clinician,
            Quality,
            Role::Device,
            Gateway,
            Service,
        ];
        let (caller, _) = self.gate.admit(&request, "GetDevice", &roles).await?;
        let id = request.into_inner().id;
        required_id("id", &id)?;
        reply(convert::device(&self.registry.get(&caller, &id).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn update_device(&self, request: Request<pb::UpdateDeviceRequest>) -> Reply<pb::Device> {
        let (caller, role) = self
            .gate
            .admit(&request, "UpdateDevice", &[Admin, Integrator])
            .await?;
        let request = request.into_inner();
        required_id("id", &request.id)?;
        let changes = DeviceChanges {
            firmware_version: request.firmware_version,
            model: request.model,
            udi_pi: request.udi_pi,
            care_setting: request.care_setting,
            transport: request.transport,
            security: request.security,
            gateway_id: request.gateway_id,
            expected_interval_seconds: request.expected_interval_seconds,
            time_zone: request.time_zone,
        };
        reply(convert::device(
            &self
                .registry
                .update(&caller, role, &request.id, changes)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn list_devices(
        &self,
        request: Request<pb::ListDevicesRequest>,
    ) -> Reply<pb::ListDevicesResponse> {
        self.gate.admit(&request, "ListDevices", STAFF).await?;
        let request = request.into_inner();
        let status = convert::status_code(request.status()).to_owned();
        let page = Page::of(request.page);
        let filter = DeviceFilter {
            kind: request.kind,
            care_setting: request.care_setting,
            status,
            patient: request.patient.map(|p| p.value).unwrap_or_default(),
        };
        let devices = self.registry.list(&filter, &page.token, page.size).await?;
        reply(pb::ListDevicesResponse {
            devices: devices.iter().map(convert::device).collect(),
            page: Some(page.next(&devices, |last| last.id.clone())),
        })
    }

    async fn suspend_device(&self, request: Request<pb::ChangeStatusRequest>) -> Reply<pb::Device> {
        self.transition(request, "SuspendDevice", Transition::Suspend)
            .await
    }

    async fn reactivate_device(
        &self,
        request: Request<pb::ChangeStatusRequest>,
    ) -> Reply<pb::Device> {
        self.transition(request, "ReactivateDevice", Transition::Reactivate)
            .await
    }

    async fn decommission_device(
        &self,
        request: Request<pb::ChangeStatusRequest>,
    ) -> Reply<pb::Device> {
        self.transition(request, "DecommissionDevice", Transition::Decommission)
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn bind_device(&self, request: Request<pb::BindDeviceRequest>) -> Reply<pb::Binding> {
        let (caller, role) = self
            .gate
            .admit(&request, "BindDevice", &[Admin, Clinician])
            .await?;
        let request = request.into_inner();
        required_id("device_id", &request.device_id)?;
        let patient = request.patient.map(|p| p.value).unwrap_or_default();
        let start = request
            .start
            .as_ref()
            .map(|t| convert::micros("start", t))
            .transpose()?;
        let user = binding::check_user(request.user)?;
        let binding = self
            .registry
            .bind(&caller, role, &request.device_id, &patient, start, user)
            .await?;
        reply(convert::binding(&binding))
    }

    #[tracing::instrument(skip_all)]
    async fn unbind_device(&self, request: Request<pb::UnbindDeviceRequest>) -> Reply<pb::Binding> {
        let (caller, role) = self
            .gate
            .admit(&request, "UnbindDevice", &[Admin, Clinician])
            .await?;
        let request = request.into_inner();
        required_id("device_id", &request.device_id)?;
        let end = request
            .end
            .as_ref()
            .map(|t| convert::micros("end", t))
            .transpose()?;
        let user = binding::check_user(request.user)?;
        reply(convert::binding(
            &self
                .registry
                .unbind(&caller, role, &request.device_id, end, user)
                .await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn list_bindings(
        &self,
        request: Request<pb::ListBindingsRequest>,
    ) -> Reply<pb::ListBindingsResponse> {
        self.gate
            .admit(
                &request,
                "ListBindings",
                &[Admin, Clinician, Quality, Service],
            )
            .await?;
        let device_id = request.into_inner().device_id;
        required_id("device_id", &device_id)?;
        let bindings = self.registry.bindings(&device_id).await?;
        reply(pb::ListBindingsResponse {
            bindings: bindings.iter().map(convert::binding).collect(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn lookup_devices(
        &self,
        request: Request<pb::LookupDevicesRequest>,
    ) -> Reply<pb::LookupDevicesResponse> {
        self.gate
            .admit(&request, "LookupDevices", &[Service])
            .await?;
        let ids = request.into_inner().ids;
        if ids.len() > 1_000 {
            return Err(ServiceError::field("ids", "at most 1000 ids per call").into());
        }
        let devices = self
            .registry
            .lookup(&ids)
            .await?
            .iter()
            .map(|(device, bindings)| pb::DeviceWithBindings {
                device: Some(convert::device(device)),
                bindings: bindings.iter().map(convert::binding).collect(),
            })
            .collect();
        reply(pb::LookupDevicesResponse { devices })
    }

    #[tracing::instrument(skip_all)]
    async fn patient_at(
        &self,
        request: Request<pb::PatientAtRequest>,
    ) -> Reply<pb::PatientAtResponse> {
        self.gate
            .admit(
                &request,
                "PatientAt",
                &[Service, Admin, Clinician, Integrator],
            )
            .await?;
        let request = request.into_inner();
        required_id("device_id", &request.device_id)?;
        let at = request
            .at
            .as_ref()
            .ok_or_else(|| ServiceError::field("at", "is required"))?;
        let user = binding::check_user(request.user)?;
        let binding = self
            .registry
            .patient_at(&request.device_id, convert::micros("at", at)?, user)
            .await?;
        reply(pb::PatientAtResponse {
            patient: binding.as_ref().map(|b| common::PatientRef {
                value: b.patient.clone(),
            }),
            binding_id: binding.map(|b| b.id).unwrap_or_default(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn issue_credential(
        &self,
        request: Request<pb::IssueCredentialRequest>,
    ) -> Reply<pb::IssuedCredential> {
        let (caller, role) = self
            .gate
            .admit(&request, "IssueCredential", &[Admin])
            .await?;
        let request = request.into_inner();
        let expires_at = request
            .expires_at
            .as_ref()
            .map(|t| convert::micros("expires_at", t))
            .transpose()?;
        let spec = credential::parse(
            convert::kind(request.kind),
            &request.principal_id,
            &request.roles,
            expires_at,
            now_micros(),
        )
        .map_err(ServiceError::InvalidArgument)?;
        let (stored, token) = self.registry.issue(&caller, role, &spec).await?;
        tracing::info!(credential_id = %stored.id, "credential issued");
        reply(pb::IssuedCredential {
            credential: Some(convert::credential(&stored)),
            secret: token.bearer(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn list_credentials(
        &self,
        request: Request<pb::ListCredentialsRequest>,
    ) -> Reply<pb::ListCredentialsResponse> {
        self.gate
            .admit(&request, "ListCredentials", &[Admin, Quality])
            .await?;
        let request = request.into_inner();
        let credentials = self
            .registry
            .list_credentials(&request.principal_id, request.include_revoked)
            .await?;
        reply(pb::ListCredentialsResponse {
            credentials: credentials.iter().map(convert::credential).collect(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn rotate_credential(
        &self,
        request: Request<pb::CredentialRef>,
    ) -> Reply<pb::IssuedCredential> {
        let (caller, role) = self
            .gate
            .admit(&request, "RotateCredential", &[Admin])
            .await?;
        let id = request.into_inner().id;
        required_id("id", &id)?;
        let (stored, token) = self.registry.rotate(&caller, role, &id).await?;
        reply(pb::IssuedCredential {
            credential: Some(convert::credential(&stored)),
            secret: token.bearer(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn revoke_credential(
        &self,
        request: Request<pb::CredentialRef>,
    ) -> Reply<pb::Credential> {
        let (caller, role) = self
            .gate
            .admit(&request, "RevokeCredential", &[Admin])
            .await?;
        let id = request.into_inner().id;
        required_id("id", &id)?;
        reply(convert::credential(
            &self.registry.revoke(&caller, role, &id).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn authenticate(
        &self,
        request: Request<pb::AuthenticateRequest>,
    ) -> Reply<pb::Principal> {
        self.gate
            .admit(&request, "Authenticate", &[Service])
            .await?;
        let bearer = request.into_inner().bearer;
        match self.registry.credentials().identify(&bearer).await? {
            Ok(caller) => reply(convert::principal_of(&caller)),
            Err(refusal) => Err(ServiceError::Refused(refusal).into()),
        }
    }
}

impl DeviceRegistryApi {
    #[tracing::instrument(skip_all, fields(step = transition.verb()))]
    async fn transition(
        &self,
        request: Request<pb::ChangeStatusRequest>,
        rpc: &'static str,
        transition: Transition,
    ) -> Reply<pb::Device> {
        let (caller, role) = self.gate.admit(&request, rpc, &[Admin]).await?;
        let request = request.into_inner();
        required_id("id", &request.id)?;
        let device = self
            .registry
            .change_status(&caller, role, &request.id, transition, &request.reason)
            .await?;
        reply(convert::device(&device))
    }
}
