Feature: Clinical rules are data, reviewed by a second person before they reach a ward
  A rule-author drafts a rule; a rule-approver who is not its author approves it; it is then
  activated. Each step is audited; a rule that cannot be evaluated never gets that far. The
  built-in library arrives approved, with priorities and categories derived from the standards.

  Background:
    Given the suite runs with all services
    And "ann" is a rule-author and rule-approver, and "bob" a rule-approver

  @REQ-RUL-001
  Scenario: A draft is submitted, approved by a second person and activated
    When "ann" drafts the rule "ward-7-fever" at or above 38.3 "Cel" for code "8310-5"
    And "ann" submits it
    And "ann" approves it
    Then the step is refused as PERMISSION_DENIED
    When "bob" approves it
    And "bob" activates it
    Then the rule's versions are "active"
    And the audit log records "rule.drafted,rule.submitted,rule.approved,rule.activated" for the rule

  @REQ-RUL-001
  Scenario: A new version replaces the active one, and steps out of order are refused
    When "ann" drafts the rule "ward-7-fever" at or above 38.3 "Cel" for code "8310-5"
    And "bob" activates it
    Then the step is refused as FAILED_PRECONDITION
    When "ann" submits it
    And "bob" approves it
    And "bob" activates it
    And "ann" drafts a new version at or above 38.5 "Cel"
    And "ann" submits it
    And "bob" approves it
    And "bob" activates it
    Then the rule's versions are "retired,active"

  @REQ-RUL-002
  Scenario Outline: A rule that cannot be evaluated is refused naming the field
    When "ann" drafts the rule "bad-rule" at or above <trigger> "<unit>" for code "<code>"
    Then the draft is refused as INVALID_ARGUMENT naming "<field>"

    Examples:
      | trigger | unit   | code    | field                       |
      | 100.4   | [degF] | 8310-5  | definition.logic.unit       |
      | 38.3    | Cel    | 0000-0  | definition.applies_to.codes |
      | 3.9     | mmol/L | 2339-0  | definition.logic.unit       |

  @REQ-RUL-003
  Scenario Outline: Each built-in rule carries its derived priority and IMDRF category
    Then the built-in rule "<rule>" is active with priority "<priority>" and category "<category>"

    Examples:
      | rule                          | priority | category |
      | hypoglycaemia-level-1         | medium   | II       |
      | hypoglycaemia-level-2         | high     | III      |
      | rapid-glucose-fall            | medium   | II       |
      | fever                         | low      | I        |
      | overnight-fever-spike         | medium   | II       |
      | spo2-desaturation             | high     | III      |
      | bradycardia                   | high     | III      |
      | tachycardia                   | medium   | II       |
      | hypertensive-crisis           | high     | III      |
      | heart-failure-weight-gain-24h | low      | I        |
      | heart-failure-weight-gain-7d  | low      | I        |
      | fall                          | high     | II       |
      | pump-occlusion                | high     | III      |
      | ventilator-disconnect         | high     | III      |
      | device-silence                | low      | I        |
      | news2-medium                  | medium   | II       |
      | news2-high                    | high     | III      |

  @REQ-RUL-018
  Scenario Outline: A rule naming device kinds "<kinds>" or care settings "<settings>" judges only those devices' readings
    Given "nurse" is a clinician
    And a "wearable-thermometer" "patch-1", expected every 300 seconds, is bound to patient "pt-1" and holds a device credential
    And device "cgm-1" is bound to patient "pt-2" and holds a device credential
    When "ann" drafts the rule "patch-fever" at or above 37.8 "Cel" for code "8310-5" on "<kinds>" devices in "<settings>" care
    And "ann" submits it
    And "bob" approves it
    And "bob" activates it
    And 2 seconds pass
    And device "patch-1" reports "8310-5 37.9 Cel"
    And device "cgm-1" reports "8310-5 37.9 Cel"
    Then patient "pt-1" has open alerts "<pt-1>"
    And patient "pt-2" has open alerts "<pt-2>"

    Examples:
      | kinds                | settings       | pt-1             | pt-2             |
      | wearable-thermometer |                | the drafted rule |                  |
      |                      | on-body        | the drafted rule | the drafted rule |
      |                      | in-home        |                  |                  |

  @REQ-RUL-018
  Scenario: A rule naming a care setting no device can be in is refused
    When "ann" drafts the rule "icu-fever" at or above 37.8 "Cel" for code "8310-5" on "" devices in "intensive-care" care
    Then the draft is refused as INVALID_ARGUMENT naming "definition.applies_to.care_settings"
