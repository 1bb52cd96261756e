Feature: Each kind of rule decides at its boundary
  Thresholds, persistence, changes over hours and days, rates and coded events, each fed through
  the real ingestion API just below, at and just above the value that decides — using the
  built-in rules, so what is verified is what a ward runs.

  Background:
    Given the suite runs with all services
    And device "dev-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician

  @REQ-RUL-010
  Scenario Outline: A threshold raises at its trigger and not before (<series>)
    When device "dev-1" reports "<series>"
    Then patient "pt-1" has open alerts "<open>"

    Examples: fever, at or above 38.0 °C
      | series           | open       |
      | 8310-5 37.99 Cel |            |
      | 8310-5 38.0 Cel  | rule-fever |
      | 8310-5 38.01 Cel | rule-fever |

    Examples: hypoglycaemia level 1, below 70 mg/dL
      | series             | open                       |
      | 2339-0 70.01 mg/dL |                            |
      | 2339-0 70 mg/dL    |                            |
      | 2339-0 69.99 mg/dL | rule-hypoglycaemia-level-1 |

    Examples: hypertensive crisis, systolic at or above 180 mm Hg in the blood-pressure panel
      | series                    | open                     |
      | 85354-9 179/100 mm[Hg]    |                          |
      | 85354-9 180/100 mm[Hg]    | rule-hypertensive-crisis |
      | 85354-9 181/100 mm[Hg]    | rule-hypertensive-crisis |

    Examples: glucose in mmol/L is judged in mg/dL (3.0 mmol/L = 54.05 mg/dL, 2.9 = 52.2)
      | series              | open                                                  |
      | 2339-0 3.0 mmol/L   | rule-hypoglycaemia-level-1                            |
      | 2339-0 2.9 mmol/L   | rule-hypoglycaemia-level-1,rule-hypoglycaemia-level-2 |

  @REQ-RUL-010
  Scenario Outline: Persistence holds an alert back until the condition has lasted (<series>)
    When device "dev-1" reports "<series>"
    Then patient "pt-1" has open alerts "<open>"

    Examples: SpO2 below 90 % for 15 seconds
      | series                                    | open                   |
      | 59408-5 89 % at -30s; 59408-5 89 % at -16s |                        |
      | 59408-5 89 % at -30s; 59408-5 89 % at -15s | rule-spo2-desaturation |
      | 59408-5 89 % at -30s; 59408-5 89 % at -14s | rule-spo2-desaturation |
      | 59408-5 89 % at -30s; 59408-5 91 % at -10s; 59408-5 89 % at -5s |  |

    Examples: heart rate above 130 per minute in two consecutive readings
      | series                                    | open             |
      | 8867-4 130 /min; 8867-4 130 /min          |                  |
      | 8867-4 131 /min                           |                  |
      | 8867-4 131 /min; 8867-4 131 /min          | rule-tachycardia |
      | 8867-4 131 /min; 8867-4 125 /min; 8867-4 131 /min |          |

  @REQ-RUL-010
  Scenario: Hysteresis keeps a glucose wavering at the trigger from flapping
    When device "dev-1" reports "2339-0 69 mg/dL; 2339-0 75 mg/dL; 2339-0 69 mg/dL; 2339-0 79 mg/dL; 2339-0 68 mg/dL"
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    And the alert of "rule-hypoglycaemia-level-1" shows the changes "raised,updated,updated"
    When device "dev-1" reports "2339-0 80 mg/dL"
    Then patient "pt-1" has open alerts ""
    And the alert of "rule-hypoglycaemia-level-1" shows the changes "raised,updated,updated,resolved"
    And patient "pt-1" has 1 alert in all

  @REQ-RUL-011
  Scenario Outline: A change over a window raises at its amount and within its window (<series>)
    When device "dev-1" reports "<series>"
    Then patient "pt-1" has open alerts "<open>"

    Examples: temperature up by 1.0 °C within 4 hours
      | series                                      | open                       |
      | 8310-5 36.8 Cel at -3h; 8310-5 37.79 Cel    |                            |
      | 8310-5 36.8 Cel at -3h; 8310-5 37.8 Cel     | rule-overnight-fever-spike |
      | 8310-5 36.8 Cel at -3h; 8310-5 37.81 Cel    | rule-overnight-fever-spike |
      | 8310-5 36.6 Cel at -241m; 8310-5 37.8 Cel   | rule-overnight-fever-spike |
      | 8310-5 36.6 Cel at -242m; 8310-5 37.8 Cel   |                            |

    Examples: weight up by more than 0.9 kg in 24 hours
      | series                                    | open                              |
      | 29463-7 80 kg at -20h; 29463-7 80.9 kg    |                                   |
      | 29463-7 80 kg at -20h; 29463-7 80.91 kg   | rule-heart-failure-weight-gain-24h |
      | 29463-7 80 kg at -25h; 29463-7 81.5 kg    |                                   |

    Examples: weight up by more than 2.3 kg in 7 days
      | series                                                     | open                             |
      | 29463-7 80 kg at -6d; 29463-7 80.5 kg at -3d; 29463-7 82.3 kg  |                                  |
      | 29463-7 80 kg at -6d; 29463-7 80.5 kg at -3d; 29463-7 82.31 kg | rule-heart-failure-weight-gain-7d |

  @REQ-RUL-012
  Scenario Outline: A rate over a window raises at its slope (<series>)
    When device "dev-1" reports "<series>"
    Then patient "pt-1" has open alerts "<open>"

    Examples: CGM glucose falling faster than 2 mg/dL per minute, 3 samples in 15 minutes
      | series                                                                      | open                    |
      | 99504-3 120 mg/dL at -11m; 99504-3 110.5 mg/dL at -6m; 99504-3 101 mg/dL at -1m |                         |
      | 99504-3 120 mg/dL at -11m; 99504-3 110 mg/dL at -6m; 99504-3 100 mg/dL at -1m   | rule-rapid-glucose-fall |
      | 99504-3 120 mg/dL at -11m; 99504-3 109.5 mg/dL at -6m; 99504-3 99 mg/dL at -1m  | rule-rapid-glucose-fall |
      | 99504-3 120 mg/dL at -6m; 99504-3 100 mg/dL at -1m                          |                         |

  @REQ-RUL-013
  Scenario: A coded event raises at once, at high priority, and stays until a person resolves it
    When device "dev-1" reports "fall-detected"
    Then patient "pt-1" has open alerts "rule-fall"
    And the alert of "rule-fall" has priority "high"
    When device "dev-1" reports "8867-4 72 /min; 8310-5 36.9 Cel"
    Then patient "pt-1" has open alerts "rule-fall"
    When "nurse" resolves the alert of "rule-fall"
    Then patient "pt-1" has open alerts ""
    And the alert of "rule-fall" shows the changes "raised,resolved"
