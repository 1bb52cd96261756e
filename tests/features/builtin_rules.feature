Feature: Each built-in rule raises on the condition it names
  The library a ward gets out of the box, rule by rule: the readings that make the condition, and
  the alert a clinician then sees, at the rule's priority. Device silence, judged on the clock,
  is in device_silence.feature.

  Background:
    Given the suite runs with all services
    And device "dev-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician

  @REQ-RUL-015
  Scenario Outline: <condition> raises a <priority> alert
    When device "dev-1" reports "<series>"
    Then patient "pt-1" has open alerts "<open>"
    And the alert of "rule-<rule>" has priority "<priority>"

    Examples:
      | condition                          | rule                          | priority | series                                                                                   | open                                                   |
      | A glucose of 65 mg/dL              | hypoglycaemia-level-1         | medium   | 2339-0 65 mg/dL                                                                          | rule-hypoglycaemia-level-1                             |
      | A glucose of 50 mg/dL              | hypoglycaemia-level-2         | high     | 2339-0 50 mg/dL                                                                          | rule-hypoglycaemia-level-1,rule-hypoglycaemia-level-2  |
      | A CGM glucose falling 3 mg/dL/min  | rapid-glucose-fall            | medium   | 99504-3 140 mg/dL at -11m; 99504-3 125 mg/dL at -6m; 99504-3 110 mg/dL at -1m            | rule-rapid-glucose-fall                                |
      | A temperature of 38.6 °C           | fever                         | low      | 8310-5 38.6 Cel                                                                          | rule-fever                                             |
      | An overnight fever spike           | overnight-fever-spike         | medium   | 8310-5 36.7 Cel at -5h; 8310-5 36.9 Cel at -3h; 8310-5 37.6 Cel at -2h; 8310-5 38.2 Cel  | rule-fever,rule-overnight-fever-spike                  |
      | An SpO2 of 86 % for 20 seconds     | spo2-desaturation             | high     | 59408-5 87 % at -40s; 59408-5 86 % at -30s; 59408-5 86 % at -20s                          | rule-spo2-desaturation                                 |
      | A heart rate of 36 twice           | bradycardia                   | high     | 8867-4 36 /min; 8867-4 35 /min                                                           | rule-bradycardia                                       |
      | A heart rate of 145 twice          | tachycardia                   | medium   | 8867-4 145 /min; 8867-4 148 /min                                                         | rule-tachycardia                                       |
      | A blood pressure of 192/118        | hypertensive-crisis           | high     | 85354-9 192/118 mm[Hg]                                                                   | rule-hypertensive-crisis                               |
      | A weight up 1.2 kg since yesterday | heart-failure-weight-gain-24h | low      | 29463-7 82.0 kg at -22h; 29463-7 83.2 kg                                                 | rule-heart-failure-weight-gain-24h                     |
      | A weight up 2.6 kg in a week       | heart-failure-weight-gain-7d  | low      | 29463-7 80.0 kg at -6d; 29463-7 80.9 kg at -3d; 29463-7 82.6 kg                           | rule-heart-failure-weight-gain-7d                      |
      | A fall                             | fall                          | high     | fall-detected                                                                            | rule-fall                                              |
      | A pump occlusion                   | pump-occlusion                | high     | pump-occlusion                                                                           | rule-pump-occlusion                                    |
      | A ventilator disconnection         | ventilator-disconnect         | high     | ventilator-disconnect                                                                    | rule-ventilator-disconnect                             |
      | A NEWS2 of 5                       | news2-medium                  | medium   | 9279-1 22 /min; 59408-5 95 %; 3151-8 0 L/min; 85354-9 115/75 mm[Hg]; 8867-4 95 /min; consciousness-alert; 8310-5 38.5 Cel | rule-fever,rule-news2-medium |
      | A NEWS2 of 11                      | news2-high                    | high     | 9279-1 25 /min; 59408-5 93 %; 3151-8 2 L/min; 85354-9 95/60 mm[Hg]; 8867-4 115 /min; consciousness-alert; 8310-5 37.0 Cel | rule-news2-high,rule-news2-medium |
