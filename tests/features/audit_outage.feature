Feature: Alerting never goes silent because of the audit log
  The audit log is the record of what was done, not a gate on clinical care. When it cannot take
  records — tampered, its store failing, its service down — readings are still stored, rules still
  evaluated and alerts still raised, delivered and handled; each of those actions' records is kept
  in the acting service's own store, in the action's transaction, and appended once the log is
  back. The audit service reports itself not serving, and the admins get a technical alert.
  Changes to devices, credentials and rules stay refused until the log is back.

  Background:
    Given the suite runs with all services
    And device "dev-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician

  @REQ-AUDIT-015
  Scenario: With the audit log tampered, a fall still raises its alert and the admins are told
    When someone with direct access to the database appends a record forged without the key
    And device "dev-1" reports "fall-detected"
    Then within 2 seconds patient "pt-1" has the open alert "rule-fall"
    And within 30 seconds the technical alert "technical.audit-log-out" is open at high priority, for no patient, routed to "admins"
    And health reports NOT_SERVING for "sentinel.audit.v1.AuditLog"
    And health reports SERVING for each of:
      | service                                 |
      | sentinel.ingestion.v1.ReadingIngestion  |
      | sentinel.rules.v1.ClinicalRules         |

  @REQ-AUDIT-015
  Scenario: A suite whose audit log was tampered while it was down starts, and alerts
    # A restarted replica evaluates once the crashed one's partition leases lapse (6 s).
    When someone with direct access to the database appends a record forged without the key
    And the suite crashes and starts again on the same store
    And device "dev-1" reports "fall-detected"
    Then within 15 seconds patient "pt-1" has the open alert "rule-fall"
    And within 30 seconds the technical alert "technical.audit-log-out" is open at high priority, for no patient, routed to "admins"

  @REQ-AUDIT-016
  Scenario: What was done while the audit log was out reaches it once it is repaired
    When someone with direct access to the database appends a record forged without the key
    And device "dev-1" reports "fall-detected"
    Then within 2 seconds patient "pt-1" has the open alert "rule-fall"
    When "nurse" acknowledges the alert of "rule-fall"
    Then the alert of "rule-fall" shows the changes "raised,acknowledged"
    And within 30 seconds the technical alert "technical.audit-log-out" is open at high priority, for no patient, routed to "admins"
    When the audit database is restored to before the forgery
    Then within 10 seconds health reports SERVING for "sentinel.audit.v1.AuditLog"
    And within 10 seconds the technical alert "technical.audit-log-out" is resolved
    And within 10 seconds the audit log holds the "raised,acknowledged" of the alert of "rule-fall", each kept while the log was out
    And within 10 seconds the readings reported while the log was out are in it, kept as "readings.accepted"
    When the audit log is verified
    Then verification reports the log intact
