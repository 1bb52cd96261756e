Feature: Alerts nobody answers escalate
  An unacknowledged alert goes up one priority and to the next tier after a configured time;
  an acknowledged one stays where it is.

  Background:
    Given the suite runs with all services, escalating unacknowledged alerts after 3 seconds
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician

  @REQ-RUL-007
  Scenario: An unacknowledged medium alert becomes high at the next tier
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 60    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    And the alert of "rule-hypoglycaemia-level-1" has priority "medium"
    And the alert of "rule-hypoglycaemia-level-1" escalates to priority "high" at tier 1 or beyond

  @REQ-RUL-007
  Scenario: An acknowledged alert does not escalate
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 60    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    When "nurse" acknowledges the alert of "rule-hypoglycaemia-level-1"
    And 4 seconds pass
    Then the alert of "rule-hypoglycaemia-level-1" has priority "medium"

  @REQ-RUL-007
  Scenario: Each tier's route sees the alert when it reaches that tier
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 60    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    And a watcher of route "bedside-nurse" first sees the alert of "rule-hypoglycaemia-level-1" "raised" at tier 0
    And a watcher of route "charge-nurse" first sees the alert of "rule-hypoglycaemia-level-1" "escalated" at tier 1
    And a watcher of route "rapid-response-team" first sees the alert of "rule-hypoglycaemia-level-1" "escalated" at tier 2
