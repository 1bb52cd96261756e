Feature: Alerting never goes silent because of the audit log, with the audit log in a server of its own
  Split as on Kubernetes: when the audit server is down, the other services stay ready, keep the
  records of what they do, alert, tell the admins, and append what they kept once it is back.

  @REQ-AUDIT-015 @REQ-AUDIT-016
  Scenario: The audit server down: a fall still alerts, and what was done reaches the log once it is back
    Given the suite runs with the services "registry,ingestion,rules" and the audit log in a server of its own, with its own service credential
    And device "dev-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician
    When the audit log's server crashes
    And device "dev-1" reports "fall-detected"
    Then within 2 seconds patient "pt-1" has the open alert "rule-fall"
    And within 30 seconds the technical alert "technical.audit-log-out" is open at high priority, for no patient, routed to "admins"
    And health reports SERVING for each of:
      | service                                 |
      | sentinel.ingestion.v1.ReadingIngestion  |
      | sentinel.rules.v1.ClinicalRules         |
    When "nurse" acknowledges the alert of "rule-fall"
    And the audit log's server starts again on its address and store
    Then within 30 seconds the technical alert "technical.audit-log-out" is resolved
    And within 10 seconds the audit log holds the "raised,acknowledged" of the alert of "rule-fall", each kept while the log was out
    And within 10 seconds the readings reported while the log was out are in it, kept as "readings.accepted"
