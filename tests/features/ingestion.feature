Feature: Readings are validated, normalised, attributed and durable before acknowledged
  Gateways and devices submit batches of readings. Each reading is checked on its own, converted
  to its code's canonical unit, attributed to the patient bound at the time, stored once, and
  acknowledged only after it is committed.

  Background:
    Given the suite runs with all services
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential

  @REQ-ING-001 @REQ-ING-002 @REQ-ING-003 @REQ-ING-004
  Scenario: A batch is accepted reading by reading
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code    | value | unit   |
      | 1        | 8310-5  | 100.4 | [degF] |
      | 2        | 2339-0  | 3.0   | mmol/L |
      | 3        | 2339-0  | 5.5   | Cel    |
      | 4        | 59408-5 | 100.1 | %      |
      | 5        | 0000-0  | 1     | 1      |
    Then readings 1 and 2 are accepted
    And reading 3 is refused naming "readings[2].value.unit"
    And reading 4 is refused naming "readings[3].value.value"
    And reading 5 is refused naming "readings[4].code"
    And accepted reading 1 is stored as 38 "Cel" beside the original 100.4 "[degF]"
    And accepted reading 2 is stored as 54.0468 "mg/dL" beside the original 3 "mmol/L"
    And the accepted readings are attributed to patient "pt-1"
    And 3 readings of the batch are in quarantine

  @REQ-ING-005 @REQ-ING-007
  Scenario: A retried batch stores nothing twice and is audited once
    When device "cgm-1" submits batch "b2" with the readings:
      | sequence | code   | value | unit |
      | 10       | 8867-4 | 70    | /min |
      | 11       | 8867-4 | 72    | /min |
    And device "cgm-1" submits batch "b2" again
    Then every reading of the retry is acknowledged as a duplicate of the original
    And device "cgm-1" has 2 stored readings
    And the audit log records "readings.accepted" for batch "b2" with 2 accepted

  @REQ-ING-006
  Scenario: Acknowledged readings survive a crash and followers resume from any position
    When device "cgm-1" submits batch "b3" with the readings:
      | sequence | code   | value | unit |
      | 20       | 8867-4 | 70    | /min |
      | 21       | 8867-4 | 71    | /min |
      | 22       | 8867-4 | 72    | /min |
      | 23       | 8867-4 | 73    | /min |
    And the suite crashes and starts again on the same store
    Then device "cgm-1" has 4 stored readings
    And a follower resuming after position 2 receives positions "3,4"

  @REQ-ING-008
  Scenario: A rejected reading is listed from quarantine, corrected and resubmitted
    When device "cgm-1" submits batch "b4" with the readings:
      | sequence | code   | value | unit |
      | 30       | 2339-0 | 5.5   | Cel  |
    Then the quarantine of device "cgm-1" lists 1 reading whose violation names "value.unit"
    When the admin resubmits it corrected to 5.5 "mmol/L"
    Then the resubmission is accepted and the quarantine entry is resolved by it

  @REQ-ING-003
  Scenario Outline: Each validation rule refuses a reading naming its field
    When device "cgm-1" submits a heart rate of <value> observed "<observed>" with sequence "<sequence>"
    Then reading 1 is refused naming "<field>"

    Examples:
      | value | observed         | sequence | field                   |
      | 72    | in 2099          | 1        | readings[0].observed_at |
      | 72    | 8 days ago       | 2        | readings[0].observed_at |
      | 72    | 10 minutes ahead | 3        | readings[0].observed_at |
      | NaN   | now              | 4        | readings[0].value.value |
      | 400   | now              | 5        | readings[0].value.value |
      | 72    | now              |          | readings[0].sequence    |

  @REQ-ING-015
  Scenario Outline: A blood-pressure panel that contradicts itself is refused naming the component, whatever its order
    When device "cgm-1" submits a blood-pressure panel with the components "<components>"
    Then reading 1 is refused naming "<field>"
    And device "cgm-1" has 0 stored readings

    Examples:
      | components                       | field                          |
      | 8480-6=120 8480-6=290 8462-4=80  | readings[0].components[8480-6] |
      | 8480-6=290 8462-4=80 8480-6=120  | readings[0].components[8480-6] |
      | 8480-6=120 8478-0=93             | readings[0].components[8462-4] |
      | 8480-6=120 8462-4=80 8478-0=130  | readings[0].components[8478-0] |
      | 50000 components                 | readings[0].components         |

  @REQ-ING-015
  Scenario: A blood-pressure panel with its mean arterial pressure is stored whole
    When device "cgm-1" submits a blood-pressure panel with the components "8480-6=120 8462-4=80 8478-0=93"
    Then reading 1 is stored with the components "8480-6=120 8462-4=80 8478-0=93"

  @REQ-ING-003
  Scenario: A reading for a decommissioned device is refused naming the device
    Given device "cgm-1" is decommissioned
    When device "cgm-1" submits a heart rate of 72 observed "now" with sequence "9"
    Then reading 1 is refused naming "readings[0].device_id"
