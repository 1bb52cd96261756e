//! The registry's operations. Each change runs in one transaction: check, write, append the
//! audit record, commit — so a change whose audit record cannot be stored is rolled back and
//! reported as not done.

use sentinel_platform::{
    ServiceError,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, CallerKind, Role, Token},
    ids::new_id,
    time::now_micros,
};

use crate::{
    credentials::Credentials,
    domain::{
        binding::{self, Binding},
        credential::PrincipalSpec,
        device::{Device, DeviceSpec, DeviceStatus, StatusEntry, Transition},
    },
    storage::{DeviceFilter, RegistryStore, StoredCredential},
};

/// Changes to a device's mutable fields; `None` keeps the value.
#[derive(Debug, Clone, Default)]
pub struct DeviceChanges {
    pub firmware_version: Option<String>,
    pub model: Option<String>,
    pub udi_pi: Option<String>,
    pub care_setting: Option<String>,
    pub transport: Option<String>,
    pub security: Option<String>,
    pub gateway_id: Option<String>,
    pub expected_interval_seconds: Option<u32>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Registry {
    credentials: Credentials,
    trail: AuditTrail,
}

impl Registry {
    pub fn new(credentials: Credentials, trail: AuditTrail) -> Self {
        Registry { credentials, trail }
    }

    pub fn credentials(&self) -> &Credentials {
        &self.credentials
    }

    fn store(&self) -> &RegistryStore {
        self.credentials.store()
    }

    pub async fn register(
        &self,
        caller: &Caller,
        role: Role,
        spec: DeviceSpec,
    ) -> Result<Device, ServiceError> {
        let violations = spec.violations("spec.");
        if !violations.is_empty() {
            return Err(ServiceError::InvalidArgument(violations));
        }
        let now = now_micros();
        let device = Device {
            id: new_id("dev"),
            spec,
            status: DeviceStatus::Active,
            registered_at: now,
            history: vec![StatusEntry {
                status: DeviceStatus::Active,
                at: now,
                reason: "registered".to_owned(),
                by: caller.id.clone(),
            }],
            current_patient: None,
        };
        let mut tx = self.store().begin().await?;
        RegistryStore::insert_device(&mut tx, &device).await?;
        let event = AuditEvent::success(Action::DeviceRegistered, "device", &device.id)
            .with("kind", &device.spec.kind)
            .with("care_setting", &device.spec.care_setting);
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(device)
    }

    /// The device, if `caller` may see it: staff roles see every device, a device principal
    /// only itself, a gateway only the devices that report through it.
    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Device, ServiceError> {
        let device = self
            .store()
            .device(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("device {id}")))?;
        let allowed = match caller.kind {
            CallerKind::Device => caller.id == device.id,
            CallerKind::Gateway => caller.id == device.spec.gateway_id,
            CallerKind::User | CallerKind::Service => true,
        };
        if !allowed {
            return Err(ServiceError::PermissionDenied(
                "this device is not yours".to_owned(),
            ));
        }
        Ok(device)
    }

    pub async fn update(
        &self,
        caller: &Caller,
        role: Role,
        id: &str,
        changes: DeviceChanges,
    ) -> Result<Device, ServiceError> {
        let mut tx = self.store().lock_device(id).await?;
        let mut device = self.get(caller, id).await?;
        let spec = &mut device.spec;
        let set = |target: &mut String, value: Option<String>| {
            if let Some(value) = value {
                *target = value;
            }
        };
        set(&mut spec.firmware_version, changes.firmware_version);
        set(&mut spec.model, changes.model);
        set(&mut spec.udi_pi, changes.udi_pi);
        set(&mut spec.care_setting, changes.care_setting);
        set(&mut spec.transport, changes.transport);
        set(&mut spec.security, changes.security);
        set(&mut spec.gateway_id, changes.gateway_id);
        set(&mut spec.time_zone, changes.time_zone);
        if let Some(interval) = changes.expected_interval_seconds {
            spec.expected_interval_seconds = interval;
        }
        let violations = spec.violations("");
        if !violations.is_empty() {
            return Err(ServiceError::InvalidArgument(violations));
        }
        RegistryStore::update_spec(&mut tx, id, spec).await?;
        let event = AuditEvent::success(Action::DeviceUpdated, "device", id)
            .with("firmware_version", &spec.firmware_version);
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        self.get(caller, id).await
    }

    pub async fn change_status(
        &self,
        caller: &Caller,
        role: Role,
        id: &str,
        transition: Transition,
        reason: &str,
    ) -> Result<Device, ServiceError> {
        if reason.len() > 256 || reason.chars().any(char::is_control) {
            return Err(ServiceError::field(
                "reason",
                "must be at most 256 bytes without control characters",
            ));
        }
        let mut tx = self.store().lock_device(id).await?;
        let next = transition.apply(RegistryStore::status_in(&mut tx, id).await?)?;
        let entry = StatusEntry {
            status: next,
            at: now_micros(),
            reason: reason.to_owned(),
            by: caller.id.clone(),
        };
        RegistryStore::set_status(&mut tx, id, &entry).await?;
        let action = match transition {
            Transition::Suspend => Action::DeviceSuspended,
            Transition::Reactivate => Action::DeviceReactivated,
            Transition::Decommission => Action::DeviceDecommissioned,
        };
        self.trail
            .record(caller, role, AuditEvent::success(action, "device", id))
            .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        self.get(caller, id).await
    }

    pub async fn list(
        &self,
        filter: &DeviceFilter,
        after: &str,
        limit: u32,
    ) -> Result<Vec<Device>, ServiceError> {
        self.store().list_devices(filter, after, limit).await
    }

    pub async fn bind(
        &self,
        caller: &Caller,
        role: Role,
        device_id: &str,
        patient: &str,
        start: Option<i64>,
        user: Option<u8>,
    ) -> Result<Binding, ServiceError> {
        binding::check_patient_ref(patient)?;
        let start = start.unwrap_or_else(now_micros);
        let mut tx = self.store().lock_device(device_id).await?;
        if RegistryStore::status_in(&mut tx, device_id).await? == DeviceStatus::Decommissioned {
            return Err(ServiceError::FailedPrecondition(
                "a decommissioned device cannot be bound".to_owned(),
            ));
        }
        let existing = RegistryStore::bindings_in(&mut tx, device_id).await?;
        binding::check_new(&existing, start, user)?;
        let binding = Binding {
            id: new_id("bind"),
            device_id: device_id.to_owned(),
            patient: patient.to_owned(),
            start,
            end: None,
            user,
        };
        RegistryStore::open_binding(&mut tx, &binding).await?;
        // The audit record names the binding, never the patient reference.
        let mut event = AuditEvent::success(Action::DeviceBound, "device", device_id)
            .with("binding", &binding.id);
        if let Some(user) = user {
            event = event.with("device_user", user.to_string());
        }
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(binding)
    }

    pub async fn unbind(
        &self,
        caller: &Caller,
        role: Role,
        device_id: &str,
        end: Option<i64>,
        user: Option<u8>,
    ) -> Result<Binding, ServiceError> {
        let end = end.unwrap_or_else(now_micros);
        let mut tx = self.store().lock_device(device_id).await?;
        let existing = RegistryStore::bindings_in(&mut tx, device_id).await?;
        let mut closed = binding::open_binding(&existing, end, user)?.clone();
        closed.end = Some(end);
        RegistryStore::close_binding(&mut tx, &closed.id, end).await?;
        let event = AuditEvent::success(Action::DeviceUnbound, "device", device_id)
            .with("binding", &closed.id);
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(closed)
    }

    /// Devices and their bindings, many at once (for other services).
    pub async fn lookup(
        &self,
        ids: &[String],
    ) -> Result<Vec<(Device, Vec<Binding>)>, ServiceError> {
        self.store().devices_with_bindings(ids).await
    }

    pub async fn bindings(&self, device_id: &str) -> Result<Vec<Binding>, ServiceError> {
        if self.store().device(device_id).await?.is_none() {
            return Err(ServiceError::NotFound(format!("device {device_id}")));
        }
        self.store().bindings(device_id).await
    }

    /// The binding a reading observed `at` by device user `user` is attributed through, if
    /// any.
    pub async fn patient_at(
        &self,
        device_id: &str,
        at: i64,
        user: Option<u8>,
    ) -> Result<Option<Binding>, ServiceError> {
        let bindings = self.bindings(device_id).await?;
        Ok(binding::at(&bindings, at, user.map(Some))
            .binding()
            .cloned())
    }

    pub async fn issue(
        &self,
        caller: &Caller,
        role: Role,
        spec: &PrincipalSpec,
    ) -> Result<(StoredCredential, Token), ServiceError> {
        if spec.kind == CallerKind::Device && self.store().device(&spec.id).await?.is_none() {
            return Err(ServiceError::NotFound(format!("device {}", spec.id)));
        }
        let token = Token::generate()?;
        let stored = StoredCredential {
            expires_at: spec.expires_at,
            ..Credentials::stored(&token, spec.kind, &spec.id, &spec.roles)
        };
        let mut tx = self.store().begin().await?;
        RegistryStore::insert_credential(&mut tx, &stored).await?;
        let event = AuditEvent::success(Action::CredentialIssued, "credential", &stored.id)
            .with("principal", &spec.id)
            .with("roles", stored.roles.join(","));
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok((stored, token))
    }

    /// A new secret for the same principal and roles; the old credential is revoked at once.
    pub async fn rotate(
        &self,
        caller: &Caller,
        role: Role,
        id: &str,
    ) -> Result<(StoredCredential, Token), ServiceError> {
        let old = self.live_credential(id).await?;
        let token = Token::generate()?;
        let kind = CallerKind::from_code(&old.principal_kind)
            .ok_or_else(|| ServiceError::Internal("stored principal kind".into()))?;
        let roles: Vec<Role> = old
            .roles
            .iter()
            .filter_map(|r| Role::from_code(r))
            .collect();
        let stored = StoredCredential {
            expires_at: old.expires_at,
            ..Credentials::stored(&token, kind, &old.principal_id, &roles)
        };
        let mut tx = self.store().begin().await?;
        RegistryStore::insert_credential(&mut tx, &stored).await?;
        if !RegistryStore::revoke(&mut tx, id, now_micros(), &stored.id).await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "credential {id} was revoked meanwhile"
            )));
        }
        let event = AuditEvent::success(Action::CredentialRotated, "credential", id)
            .with("replaced_by", &stored.id);
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok((stored, token))
    }

    pub async fn revoke(
        &self,
        caller: &Caller,
        role: Role,
        id: &str,
    ) -> Result<StoredCredential, ServiceError> {
        self.live_credential(id).await?;
        let mut tx = self.store().begin().await?;
        if !RegistryStore::revoke(&mut tx, id, now_micros(), "").await? {
            return Err(ServiceError::FailedPrecondition(format!(
                "credential {id} is already revoked"
            )));
        }
        self.trail
            .record(
                caller,
                role,
                AuditEvent::success(Action::CredentialRevoked, "credential", id),
            )
            .await?;
        tx.commit().await.map_err(ServiceError::from)?;
        self.store()
            .credential(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("credential {id}")))
    }

    async fn live_credential(&self, id: &str) -> Result<StoredCredential, ServiceError> {
        let credential = self
            .store()
            .credential(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("credential {id}")))?;
        if credential.revoked_at.is_some() {
            return Err(ServiceError::FailedPrecondition(format!(
                "credential {id} is already revoked"
            )));
        }
        Ok(credential)
    }

    pub async fn list_credentials(
        &self,
        principal_id: &str,
        include_revoked: bool,
    ) -> Result<Vec<StoredCredential>, ServiceError> {
        self.store()
            .credentials(principal_id, include_revoked)
            .await
    }
}
