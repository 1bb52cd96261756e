Feature: NEWS2 is scored by the published chart
  Each parameter at the edges of its bands on the Royal College of Physicians' NEWS2 chart (2017),
  the four risk bands, SpO2 scale 2 for a patient a clinician puts on it, and no score from a
  stale vital. Readings go in through the real ingestion API; the score comes from ScoreNews2.

  Background:
    Given the suite runs with all services
    And device "monitor-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician
    When device "monitor-1" reports "9279-1 16 /min at -10m; 59408-5 97 % at -10m; 3151-8 0 L/min at -10m; 85354-9 120/80 mm[Hg] at -10m; 8867-4 70 /min at -10m; consciousness-alert at -10m; 8310-5 37.0 Cel at -10m"

  @REQ-RUL-016
  Scenario: Normal vitals score 0, low risk
    Then the NEWS2 of patient "pt-1" is 0, low risk

  @REQ-RUL-016
  Scenario Outline: <parameter> <reading> scores <points>
    When device "monitor-1" reports "<reading>"
    Then the NEWS2 of patient "pt-1" gives <parameter> <points> points

    Examples: respiration rate per minute
      | parameter        | reading       | points |
      | respiration_rate | 9279-1 8 /min  | 3      |
      | respiration_rate | 9279-1 9 /min  | 1      |
      | respiration_rate | 9279-1 11 /min | 1      |
      | respiration_rate | 9279-1 12 /min | 0      |
      | respiration_rate | 9279-1 20 /min | 0      |
      | respiration_rate | 9279-1 21 /min | 2      |
      | respiration_rate | 9279-1 24 /min | 2      |
      | respiration_rate | 9279-1 25 /min | 3      |

    Examples: SpO2 scale 1
      | parameter | reading     | points |
      | spo2      | 59408-5 91 % | 3      |
      | spo2      | 59408-5 92 % | 2      |
      | spo2      | 59408-5 93 % | 2      |
      | spo2      | 59408-5 94 % | 1      |
      | spo2      | 59408-5 95 % | 1      |
      | spo2      | 59408-5 96 % | 0      |

    Examples: air or oxygen
      | parameter     | reading        | points |
      | air_or_oxygen | 3151-8 0 L/min | 0      |
      | air_or_oxygen | 3151-8 2 L/min | 2      |

    Examples: systolic blood pressure mm Hg
      | parameter               | reading               | points |
      | systolic_blood_pressure | 85354-9 90/60 mm[Hg]  | 3      |
      | systolic_blood_pressure | 85354-9 91/60 mm[Hg]  | 2      |
      | systolic_blood_pressure | 85354-9 100/60 mm[Hg] | 2      |
      | systolic_blood_pressure | 85354-9 101/60 mm[Hg] | 1      |
      | systolic_blood_pressure | 85354-9 110/60 mm[Hg] | 1      |
      | systolic_blood_pressure | 85354-9 111/60 mm[Hg] | 0      |
      | systolic_blood_pressure | 85354-9 219/90 mm[Hg] | 0      |
      | systolic_blood_pressure | 85354-9 220/90 mm[Hg] | 3      |

    Examples: pulse per minute
      | parameter | reading        | points |
      | pulse     | 8867-4 40 /min  | 3      |
      | pulse     | 8867-4 41 /min  | 1      |
      | pulse     | 8867-4 50 /min  | 1      |
      | pulse     | 8867-4 51 /min  | 0      |
      | pulse     | 8867-4 90 /min  | 0      |
      | pulse     | 8867-4 91 /min  | 1      |
      | pulse     | 8867-4 110 /min | 1      |
      | pulse     | 8867-4 111 /min | 2      |
      | pulse     | 8867-4 130 /min | 2      |
      | pulse     | 8867-4 131 /min | 3      |

    Examples: consciousness (ACVPU)
      | parameter     | reading                     | points |
      | consciousness | consciousness-alert         | 0      |
      | consciousness | consciousness-new-confusion | 3      |
      | consciousness | consciousness-voice         | 3      |
      | consciousness | consciousness-pain          | 3      |
      | consciousness | consciousness-unresponsive  | 3      |

    Examples: temperature °C
      | parameter   | reading         | points |
      | temperature | 8310-5 35.0 Cel | 3      |
      | temperature | 8310-5 35.1 Cel | 1      |
      | temperature | 8310-5 36.0 Cel | 1      |
      | temperature | 8310-5 36.1 Cel | 0      |
      | temperature | 8310-5 38.0 Cel | 0      |
      | temperature | 8310-5 38.1 Cel | 1      |
      | temperature | 8310-5 39.0 Cel | 1      |
      | temperature | 8310-5 39.1 Cel | 2      |

  @REQ-RUL-016
  Scenario Outline: <vitals> make <total>, <risk> risk
    When device "monitor-1" reports "<readings>"
    Then the NEWS2 of patient "pt-1" is <total>, <risk> risk

    Examples:
      | vitals                               | readings                                         | total | risk       |
      | Four 1-point parameters              | 9279-1 10 /min; 59408-5 95 %; 8867-4 95 /min; 8310-5 38.5 Cel | 4     | low        |
      | A 3 in a single parameter            | 9279-1 25 /min                                   | 3     | low-medium |
      | Respiration 2, SpO2 2, pulse 1       | 9279-1 22 /min; 59408-5 93 %; 8867-4 95 /min      | 5     | medium     |
      | Six points                           | 9279-1 22 /min; 59408-5 93 %; 8867-4 111 /min     | 6     | medium     |
      | Oxygen, SpO2 2, respiration 3        | 3151-8 2 L/min; 59408-5 93 %; 9279-1 25 /min      | 7     | high       |

  @REQ-RUL-016
  Scenario: An older reading arriving late does not replace a newer one
    When device "monitor-1" reports "9279-1 30 /min at -20m; 8310-5 39.5 Cel at -5h"
    Then the NEWS2 of patient "pt-1" is 0, low risk

  @REQ-RUL-016
  Scenario: Without a fresh temperature there is no score
    Given device "monitor-2" is bound to patient "pt-2" and holds a device credential
    When device "monitor-2" reports "9279-1 16 /min; 59408-5 97 %; 3151-8 0 L/min; 85354-9 120/80 mm[Hg]; 8867-4 70 /min; consciousness-alert; 8310-5 37.0 Cel at -5h"
    Then the NEWS2 of patient "pt-2" is incomplete, missing "temperature"

  @REQ-RUL-017
  Scenario Outline: On SpO2 scale 2, <reading> on <air or oxygen> scores <points>
    When "nurse" puts patient "pt-1" on SpO2 scale 2 because "COPD with hypercapnic respiratory failure; target 88-92 % (respiratory consultant)"
    And device "monitor-1" reports "<reading>; 3151-8 <flow> L/min"
    Then the NEWS2 of patient "pt-1" gives spo2 <points> points

    Examples:
      | reading      | air or oxygen | flow | points |
      | 59408-5 83 % | air           | 0    | 3      |
      | 59408-5 84 % | air           | 0    | 2      |
      | 59408-5 85 % | air           | 0    | 2      |
      | 59408-5 86 % | air           | 0    | 1      |
      | 59408-5 87 % | air           | 0    | 1      |
      | 59408-5 88 % | air           | 0    | 0      |
      | 59408-5 92 % | air           | 0    | 0      |
      | 59408-5 93 % | air           | 0    | 0      |
      | 59408-5 98 % | air           | 0    | 0      |
      | 59408-5 93 % | oxygen        | 2    | 1      |
      | 59408-5 94 % | oxygen        | 2    | 1      |
      | 59408-5 95 % | oxygen        | 2    | 2      |
      | 59408-5 96 % | oxygen        | 2    | 2      |
      | 59408-5 97 % | oxygen        | 2    | 3      |

  @REQ-RUL-017
  Scenario Outline: A patient in target on scale 2 raises no NEWS2 alert that scale 1 would (scale <scale>)
    Given device "monitor-3" is bound to patient "pt-3" and holds a device credential
    When "nurse" puts patient "pt-3" on SpO2 scale <scale> because "COPD, target 88-92 % per respiratory team"
    And device "monitor-3" reports "9279-1 22 /min; 59408-5 89 %; 3151-8 0 L/min; 85354-9 120/80 mm[Hg]; 8867-4 95 /min; consciousness-alert; 8310-5 37.0 Cel"
    Then the NEWS2 of patient "pt-3" is <total>, <risk> risk
    And patient "pt-3" has open alerts "<open>"

    Examples:
      | scale | total | risk   | open              |
      | 1     | 6     | medium | rule-news2-medium |
      | 2     | 3     | low    |                   |

  @REQ-RUL-017
  Scenario Outline: A scale setting without <missing> is refused naming it
    When "nurse" tries to put patient "pt-1" on SpO2 scale <scale> because "<reason>"
    Then the setting is refused as INVALID_ARGUMENT naming "<missing>"

    Examples:
      | missing | scale | reason                     |
      | reason  | 2     |                            |
      | scale   | 0     | COPD, target 88-92 %       |

  @REQ-RUL-017
  Scenario: Setting a scale is audited
    When "nurse" puts patient "pt-1" on SpO2 scale 2 because "COPD, target 88-92 %"
    Then the audit log records "news2.spo2_scale_set" for patient "pt-1"
