Feature: A device gone silent raises an alert
  A device that has sent nothing for three times its expected interval (from the registry) raises
  the device-silence alert for the patient it is bound to; the alert resolves once the device
  reports again. Judged on the clock, every rules.silence_check_seconds.

  Background:
    Given the suite runs with all services, judging device silence every second
    And a "smart-scale" "scale-1", expected every 2 seconds, is bound to patient "pt-1" and holds a device credential
    And device "cgm-1" is bound to patient "pt-2" and holds a device credential
    And "nurse" is a clinician

  @REQ-RUL-014 @REQ-RUL-015
  Scenario: A scale that stops reporting raises one alert, which resolves when it reports again
    When device "scale-1" reports "29463-7 80 kg"
    And device "cgm-1" reports "2339-0 110 mg/dL"
    Then patient "pt-1" has open alerts ""
    And within 15 seconds patient "pt-1" has open alerts "rule-device-silence"
    And the alert of "rule-device-silence" has priority "low"
    And the alert of "rule-device-silence" cites 1 readings
    And patient "pt-2" has open alerts ""
    When device "scale-1" reports "29463-7 80.2 kg"
    Then within 15 seconds patient "pt-1" has open alerts ""
    And the alert of "rule-device-silence" shows the changes "raised,resolved"

  @REQ-RUL-014 @REQ-REG-005
  Scenario: A shared scale gone silent alerts each patient bound to it
    Given device "scale-1" is now bound for user 1 to patient "pt-1" and for user 2 to patient "pt-3"
    When device "scale-1" reports "29463-7 80 kg"
    Then within 15 seconds patient "pt-1" has open alerts "rule-device-silence"
    And within 15 seconds patient "pt-3" has open alerts "rule-device-silence"
    And patient "pt-2" has open alerts ""
