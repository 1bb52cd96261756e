//! The rulebook: rule versions drafted, reviewed, activated and retired. Each change is one
//! transaction — lock, read, check the step, write, append the audit record, commit — so a step
//! is never stored without its audit record.

use sentinel_platform::{
    ServiceError,
    audit_action::Action,
    audit_trail::{AuditEvent, AuditTrail},
    auth::{Caller, Role},
    ids::new_id,
    time::now_micros,
};

use sqlx::{Any, Transaction};

use crate::{
    domain::{
        lifecycle::{self, Refusal, Status, Step},
        rule::{self, RuleDefinition},
    },
    storage::{RuleStore, RuleVersion},
};

/// Who authors and approves the built-in library.
pub const LIBRARY: &str = "sentinel-library";

#[derive(Debug, Clone)]
pub struct Rulebook {
    store: RuleStore,
    trail: AuditTrail,
}

fn invalid(definition: &RuleDefinition) -> Result<(), ServiceError> {
    let problems = definition.problems();
    if problems.is_empty() {
        return Ok(());
    }
    Err(ServiceError::InvalidArgument(
        problems
            .into_iter()
            .map(|(field, rule)| {
                sentinel_platform::FieldViolation::new(format!("definition.{field}"), rule)
            })
            .collect(),
    ))
}

fn refused(refusal: &Refusal) -> ServiceError {
    match refusal {
        Refusal::OwnApproval => ServiceError::PermissionDenied(refusal.message()),
        Refusal::NotNow { .. } => ServiceError::FailedPrecondition(refusal.message()),
    }
}

fn action(step: Step) -> Action {
    match step {
        Step::Update => Action::RuleUpdated,
        Step::Submit => Action::RuleSubmitted,
        Step::Approve => Action::RuleApproved,
        Step::Reject => Action::RuleRejected,
        Step::Activate => Action::RuleActivated,
        Step::Retire => Action::RuleRetired,
    }
}

impl Rulebook {
    pub fn new(store: RuleStore, trail: AuditTrail) -> Self {
        Rulebook { store, trail }
    }

    pub fn store(&self) -> &RuleStore {
        &self.store
    }

    /// A new rule at version 1, or a new draft version of `rule_id`.
    pub async fn create_draft(
        &self,
        caller: &Caller,
        role: Role,
        rule_id: Option<&str>,
        definition: RuleDefinition,
    ) -> Result<RuleVersion, ServiceError> {
        invalid(&definition)?;
        let now = now_micros();
        let mut tx = self.store.begin().await?;
        let (rule_id, version, origin) = next_version(&mut tx, rule_id, &definition, now).await?;
        let version = RuleVersion {
            rule_id: rule_id.clone(),
            version,
            status: Status::Draft,
            definition,
            author: caller.id.clone(),
            created_at: now,
            submitted_at: None,
            approved_by: None,
            approved_at: None,
            activated_at: None,
            retired_at: None,
            origin,
        };
        RuleStore::insert_version(&mut tx, &version).await?;
        let event = AuditEvent::success(Action::RuleDrafted, "rule", &rule_id)
            .with("version", version.version.to_string())
            .with("name", version.definition.name.clone());
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(version)
    }

    /// Replaces a draft's definition (its author only).
    pub async fn update_draft(
        &self,
        caller: &Caller,
        role: Role,
        rule_id: &str,
        version: u32,
        definition: RuleDefinition,
    ) -> Result<RuleVersion, ServiceError> {
        invalid(&definition)?;
        self.change(caller, role, rule_id, version, Step::Update, "", |v| {
            if v.author != caller.id {
                return Err(ServiceError::PermissionDenied(
                    "only its author edits a draft".to_owned(),
                ));
            }
            if v.definition.name != definition.name {
                return Err(ServiceError::field(
                    "definition.name",
                    "a rule keeps its name",
                ));
            }
            v.definition = definition.clone();
            Ok(())
        })
        .await
    }

    /// Takes a review or use step on a version.
    pub async fn step(
        &self,
        caller: &Caller,
        role: Role,
        rule_id: &str,
        version: u32,
        step: Step,
        reason: &str,
    ) -> Result<RuleVersion, ServiceError> {
        self.change(caller, role, rule_id, version, step, reason, |v| {
            let now = now_micros();
            match step {
                Step::Submit => {
                    if v.author != caller.id {
                        return Err(ServiceError::PermissionDenied(
                            "only its author submits a draft".to_owned(),
                        ));
                    }
                    v.submitted_at = Some(now);
                }
                Step::Approve => {
                    v.approved_by = Some(caller.id.clone());
                    v.approved_at = Some(now);
                }
                Step::Activate => v.activated_at = Some(now),
                Step::Retire => v.retired_at = Some(now),
                Step::Reject => v.submitted_at = None,
                Step::Update => {}
            }
            Ok(())
        })
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn change(
        &self,
        caller: &Caller,
        role: Role,
        rule_id: &str,
        version: u32,
        step: Step,
        reason: &str,
        apply: impl Fn(&mut RuleVersion) -> Result<(), ServiceError>,
    ) -> Result<RuleVersion, ServiceError> {
        let mut tx = self.store.begin().await?;
        let versions = RuleStore::versions_in(&mut tx, rule_id).await?;
        let mut target = versions
            .iter()
            .find(|v| v.version == version)
            .cloned()
            .ok_or_else(|| ServiceError::NotFound(format!("rule {rule_id} version {version}")))?;
        target.status = lifecycle::take(target.status, step, &caller.id, &target.author)
            .map_err(|r| refused(&r))?;
        apply(&mut target)?;
        RuleStore::update_version(&mut tx, &target).await?;
        // One active version per rule: activating retires the one before.
        if step == Step::Activate {
            for mut earlier in versions.into_iter().filter(|v| v.status == Status::Active) {
                earlier.status = Status::Retired;
                earlier.retired_at = Some(now_micros());
                RuleStore::update_version(&mut tx, &earlier).await?;
            }
        }
        let mut event = AuditEvent::success(action(step), "rule", rule_id)
            .with("version", version.to_string())
            .with("status", target.status.code());
        if !reason.is_empty() {
            event = event.with("reason", reason.to_owned());
        }
        self.trail.record(caller, role, event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(target)
    }

    /// Runs `version` of `rule_id` over `readings` and audits that it was done (the report is
    /// the caller's; nothing is raised).
    pub async fn backtest(
        &self,
        caller: &Caller,
        role: Role,
        rule_id: &str,
        version: u32,
        readings: &[crate::domain::engine::Observed],
    ) -> Result<crate::domain::backtest::Report, ServiceError> {
        let target = self
            .store
            .versions(rule_id)
            .await?
            .into_iter()
            .find(|v| v.version == version)
            .ok_or_else(|| ServiceError::NotFound(format!("rule {rule_id} version {version}")))?;
        let rule = crate::domain::engine::ActiveRule {
            rule_id: target.rule_id,
            version: target.version,
            definition: target.definition,
        };
        let report = crate::domain::backtest::simulate(&rule, readings);
        let event = AuditEvent::success(Action::RuleBacktested, "rule", rule_id)
            .with("version", version.to_string())
            .with("readings", report.readings_evaluated.to_string())
            .with("alerts", report.alerts.len().to_string());
        self.trail.record(caller, role, event).await?;
        Ok(report)
    }

    /// Loads the built-in library as active rules, once: on a store that already holds it,
    /// nothing happens. Returns how many rules were loaded.
    pub async fn load_builtin(&self, caller: &Caller) -> Result<usize, ServiceError> {
        if self.store.has_origin("builtin").await? {
            return Ok(0);
        }
        let library = rule::builtin().map_err(ServiceError::internal)?;
        let now = now_micros();
        let mut tx = self.store.begin().await?;
        for definition in &library {
            invalid(definition)?;
            let id = format!("rule-{}", definition.name);
            RuleStore::insert_rule(&mut tx, &id, &definition.name, "builtin", now).await?;
            let version = RuleVersion {
                rule_id: id.clone(),
                version: 1,
                status: Status::Active,
                definition: definition.clone(),
                author: LIBRARY.to_owned(),
                created_at: now,
                submitted_at: Some(now),
                approved_by: Some(LIBRARY.to_owned()),
                approved_at: Some(now),
                activated_at: Some(now),
                retired_at: None,
                origin: "builtin".to_owned(),
            };
            RuleStore::insert_version(&mut tx, &version).await?;
        }
        let event = AuditEvent::success(Action::RuleLoaded, "rule-library", "builtin")
            .with("rules", library.len().to_string());
        self.trail.record_as(caller, "service", event).await?;
        tx.commit().await.map_err(ServiceError::from)?;
        Ok(library.len())
    }
}

/// The id, version number and origin of a new draft: version 1 of a new rule, or the next
/// version of `rule_id`, which keeps the rule's name and has no version in draft or review.
async fn next_version(
    tx: &mut Transaction<'static, Any>,
    rule_id: Option<&str>,
    definition: &RuleDefinition,
    now: i64,
) -> Result<(String, u32, String), ServiceError> {
    let Some(id) = rule_id else {
        let id = new_id("rule");
        RuleStore::insert_rule(tx, &id, &definition.name, "authored", now).await?;
        return Ok((id, 1, "authored".to_owned()));
    };
    let versions = RuleStore::versions_in(tx, id).await?;
    let last = versions
        .last()
        .ok_or_else(|| ServiceError::NotFound(format!("rule {id}")))?;
    if last.definition.name != definition.name {
        return Err(ServiceError::field(
            "definition.name",
            format!(
                "a new version keeps the rule's name, {}",
                last.definition.name
            ),
        ));
    }
    if versions
        .iter()
        .any(|v| matches!(v.status, Status::Draft | Status::Submitted))
    {
        return Err(ServiceError::FailedPrecondition(format!(
            "rule {id} already has a version in draft or review"
        )));
    }
    Ok((id.to_owned(), last.version + 1, last.origin.clone()))
}
