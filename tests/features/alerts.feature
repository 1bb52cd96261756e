Feature: Readings raise alerts a clinician can trust
  The evaluator follows the reading log. A condition raises one alert per rule and patient, with
  its priority, its rule version and the readings behind it; repeats update it; it resolves when
  the condition clears. Clinicians acknowledge, resolve and snooze; urgent floors are never silenced.

  Background:
    Given the suite runs with all services
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician

  @REQ-RUL-004
  Scenario: A low glucose raises both levels once, a repeat updates them, a normal value resolves them
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 50    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1,rule-hypoglycaemia-level-2"
    And the alert of "rule-hypoglycaemia-level-2" has priority "high"
    When device "cgm-1" submits batch "b2" with the readings:
      | sequence | code   | value | unit  |
      | 2        | 2339-0 | 52    | mg/dL |
    Then the alert of "rule-hypoglycaemia-level-2" shows the changes "raised,updated"
    When device "cgm-1" submits batch "b3" with the readings:
      | sequence | code   | value | unit  |
      | 3        | 2339-0 | 85    | mg/dL |
    Then patient "pt-1" has open alerts ""
    And the alert of "rule-hypoglycaemia-level-2" shows the changes "raised,updated,resolved"

  @REQ-RUL-004
  Scenario: A restart neither loses nor repeats an alert
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 60    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    When the suite crashes and starts again on the same store
    And device "cgm-1" submits batch "b2" with the readings:
      | sequence | code   | value | unit  |
      | 2        | 2339-0 | 61    | mg/dL |
    Then the alert of "rule-hypoglycaemia-level-1" shows the changes "raised,updated"

  @REQ-RUL-005
  Scenario: Snooze is scoped to one alert and never silences an urgent floor
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 50    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1,rule-hypoglycaemia-level-2"
    When "nurse" snoozes the alert of "rule-hypoglycaemia-level-2" for 600 seconds
    Then the alert action is refused as FAILED_PRECONDITION
    When "nurse" snoozes the alert of "rule-hypoglycaemia-level-1" for 600 seconds
    Then only the alert of "rule-hypoglycaemia-level-1" is snoozed
    When "nurse" snoozes the alert of "rule-hypoglycaemia-level-1" for 7200 seconds
    Then the alert action is refused as INVALID_ARGUMENT

  @REQ-RUL-005
  Scenario: A resolved alert cannot be acknowledged
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 60    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    When "nurse" acknowledges the alert of "rule-hypoglycaemia-level-1"
    And "nurse" resolves the alert of "rule-hypoglycaemia-level-1"
    And "nurse" acknowledges the alert of "rule-hypoglycaemia-level-1"
    Then the alert action is refused as FAILED_PRECONDITION
    And the alert of "rule-hypoglycaemia-level-1" shows the changes "raised,acknowledged,resolved"

  @REQ-RUL-006
  Scenario: A condition not yet persistent is suppressed, recorded, and raised when it persists
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit |
      | 1        | 8867-4 | 35    | /min |
    Then patient "pt-1" has a suppression of "rule-bradycardia" saying "persistence not yet met"
    And patient "pt-1" has open alerts ""
    When device "cgm-1" submits batch "b2" with the readings:
      | sequence | code   | value | unit |
      | 2        | 8867-4 | 36    | /min |
    Then patient "pt-1" has open alerts "rule-bradycardia"

  @REQ-RUL-008
  Scenario: A backtest reports what live evaluation raised on the same readings, and raises nothing
    Given "ann" is a rule-author and rule-approver, and "bob" a rule-approver
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 60    | mg/dL |
    And device "cgm-1" submits batch "b2" with the readings:
      | sequence | code   | value | unit  |
      | 2        | 2339-0 | 62    | mg/dL |
    And device "cgm-1" submits batch "b3" with the readings:
      | sequence | code   | value | unit  |
      | 3        | 2339-0 | 90    | mg/dL |
    Then the alert of "rule-hypoglycaemia-level-1" shows the changes "raised,updated,resolved"
    When "ann" backtests "rule-hypoglycaemia-level-1" version 1 over the last hour
    Then the backtest reports the live alert of "rule-hypoglycaemia-level-1": same readings, resolved, 1 on today's count
    And patient "pt-1" has 1 alert in all

  @REQ-RUL-009
  Scenario: NEWS2 of 7 or more raises a high alert citing the seven vitals
    When device "cgm-1" reports deteriorating NEWS2 vitals with a temperature taken 10 minutes ago
    Then patient "pt-1" has open alerts "rule-news2-high,rule-news2-medium"
    And the alert of "rule-news2-high" has priority "high"
    And the alert of "rule-news2-high" cites 7 readings

  @REQ-RUL-009
  Scenario: A stale vital gives no NEWS2 score and raises nothing
    When device "cgm-1" reports deteriorating NEWS2 vitals with a temperature taken 300 minutes ago
    Then patient "pt-1" has no NEWS2 alert

  @REQ-RUL-004
  Scenario: A fever spike and a NEWS2 that began before a restart are seen whole after it
    When device "cgm-1" reports "8310-5 36.8 Cel at -3h; 9279-1 22 /min; 59408-5 95 %; 3151-8 0 L/min; 85354-9 115/75 mm[Hg]; 8867-4 95 /min; consciousness-alert"
    Then patient "pt-1" has open alerts ""
    When the suite crashes and starts again on the same store
    And device "cgm-1" reports "8310-5 38.5 Cel"
    Then patient "pt-1" has open alerts "rule-fever,rule-news2-medium,rule-overnight-fever-spike"
