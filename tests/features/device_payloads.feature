Feature: Gateways forward raw device payloads, and Sentinel decodes them
  A gateway forwards what a Bluetooth health device or a LoRaWAN network server handed it, as
  bytes. Sentinel decodes each payload with the specification's own layout, places it in time,
  and ingests the readings like any other: checked, normalised, deduplicated, attributed.

  Background:
    Given the suite runs with all services
    And gateway "gw-home-7" forwards for device "ble-1" whose clock is set to "Europe/Berlin"

  @REQ-ING-009
  Scenario Outline: Each Bluetooth health characteristic is decoded from its specification layout
    When the gateway forwards the "<characteristic>" payload "<bytes>"
    Then the payload is accepted as <count> readings
    And its first reading is "<reading>"

    Examples:
      | characteristic                | bytes                        | count | reading                                     |
      | Temperature Measurement       | 00 6C 01 00 FF               | 1     | 8310-5 36.4 Cel as 36.4 Cel                 |
      | Temperature Measurement       | 01 DA 03 00 FF               | 1     | 8310-5 98.6 [degF] as 37 Cel                |
      | Blood Pressure Measurement    | 04 78 00 50 00 5D 00 48 00   | 2     | 85354-9 120/80 mm[Hg]                       |
      | Blood Pressure Measurement    | 01 A0 F0 6B F0 7D F0         | 1     | 85354-9 16/10.7 kPa                         |
      | Glucose Measurement           | 02 01 00 00 00 00 00 00 00 00 5F B0 11 | 1 | 2339-0 95 mg/dL as 95 mg/dL         |
      | Glucose Measurement           | 06 02 00 00 00 00 00 00 00 00 35 C0 11 | 1 | 15074-8 5.3 mmol/L as 5.3 mmol/L    |
      | Heart Rate Measurement        | 00 48                        | 1     | 8867-4 72 /min as 72 /min                   |
      | Heart Rate Measurement        | 01 2C 01                     | 1     | 8867-4 300 /min as 300 /min                 |
      | PLX Spot-Check Measurement    | 00 61 00 48 00               | 2     | 59408-5 97 % as 97 %                        |
      | PLX Continuous Measurement    | 00 62 00 41 00               | 2     | 59408-5 98 % as 98 %                        |
      | Weight Measurement            | 00 00 37                     | 1     | 29463-7 70.4 kg as 70.4 kg                  |
      | Weight Measurement            | 01 A0 3C                     | 1     | 29463-7 155.2 [lb_av] as 70.397536 kg       |

  @REQ-ING-009
  Scenario Outline: Special values of IEEE 11073 numbers become a data-absent reason
    When the gateway forwards the "<characteristic>" payload "<bytes>"
    Then the payload is accepted as 1 reading
    And its first reading is "<reading>"

    Examples:
      | characteristic             | bytes            | reading                          |
      | Temperature Measurement    | 00 FF FF 7F 00   | 8310-5 absent: not-a-number      |
      | Temperature Measurement    | 00 00 00 80 00   | 8310-5 absent: error             |
      | Temperature Measurement    | 00 FE FF 7F 00   | 8310-5 absent: positive-infinity |
      | Blood Pressure Measurement | 00 FF 07 50 00 5D 00 | 85354-9 absent: not-a-number |
      | Weight Measurement         | 00 FF FF         | 29463-7 absent: error            |

  @REQ-ING-009
  Scenario Outline: Every special value in every number field keeps its reason, NRes its flag, beside the device's status
    When the gateway forwards the "<characteristic>" payload "<template>" once with each IEEE 11073 special value
    Then reading <n> of each is stored absent with the special value's reason, flagged "<flags>" and NRes "not-at-this-resolution"

    Examples:
      | characteristic             | template                                      | n | flags           |
      | Temperature Measurement    | 00 FLOAT                                      | 1 | -               |
      | Blood Pressure Measurement | 10 SFLOAT 50 00 5D 00 04 00                   | 1 | irregular-pulse |
      | Blood Pressure Measurement | 14 78 00 50 00 5D 00 SFLOAT 04 00             | 2 | irregular-pulse |
      | Glucose Measurement        | 0A 01 00 00 00 00 00 00 00 00 SFLOAT 11 01 00 | 1 | battery-low     |
      | PLX Spot-Check Measurement | 04 SFLOAT 48 00 20 00 00                      | 1 | low-perfusion   |
      | PLX Spot-Check Measurement | 04 61 00 SFLOAT 20 00 00                      | 2 | low-perfusion   |
      | PLX Continuous Measurement | 08 SFLOAT 41 00 20 00 00                      | 1 | low-perfusion   |
      | PLX Continuous Measurement | 08 62 00 SFLOAT 20 00 00                      | 2 | low-perfusion   |

  @REQ-ING-016
  Scenario Outline: What a device says beside its measurement is kept and returned
    When the gateway forwards the "<characteristic>" payload "<bytes>"
    Then the payload is accepted as <count> readings
    And reading <n> of the payload is "<kept>"

    Examples:
      | characteristic             | bytes                                  | count | n | kept                                                    |
      | Blood Pressure Measurement | 04 78 00 50 00 5D 00 48 00             | 2     | 1 | 85354-9 8480-6=120 mm[Hg] 8462-4=80 mm[Hg] 8478-0=93 mm[Hg] |
      | Heart Rate Measurement     | 10 48 00 04 00 03                      | 1     | 1 | 8867-4 =72 /min 147240=1000 ms 147240=750 ms            |
      | PLX Spot-Check Measurement | 08 61 00 48 00 19 F0                   | 2     | 1 | 59408-5 =97 % 150488=2.5 %                              |
      | Weight Measurement         | 08 00 37 F4 00 9E 06                   | 3     | 2 | 39156-5 =24.4 kg/m2                                     |
      | Weight Measurement         | 08 00 37 F4 00 9E 06                   | 3     | 3 | 8302-2 =169.4 cm                                        |
      | Glucose Measurement        | 02 01 00 00 00 00 00 00 00 00 5F B0 11 | 1     | 1 | 2339-0 =95 mg/dL specimen=capillary-whole-blood body-site=finger |
      | Glucose Measurement        | 02 01 00 00 00 00 00 00 00 00 5F B0 4A | 1     | 1 | 2339-0 =95 mg/dL specimen=control-solution              |
      | Temperature Measurement    | 04 6C 01 00 FF 03                      | 1     | 1 | 8310-5 =36.4 Cel body-site=ear                          |

  @REQ-ING-017
  Scenario Outline: A shared cuff's reading goes to the patient of the user who measured, never to another user's
    Given device "ble-1" is now bound for user 1 to patient "pt-a" and for user 2 to patient "pt-b"
    When the gateway forwards the "Blood Pressure Measurement" payload "<bytes>"
    Then the payload is accepted as 2 readings
    And its readings are attributed <attribution> to <whom>

    Examples:
      | bytes                         | attribution    | whom                                    |
      | 0C 78 00 50 00 5D 00 48 00 01 | PATIENT        | patient "pt-a"                          |
      | 0C 78 00 50 00 5D 00 48 00 02 | PATIENT        | patient "pt-b"                          |
      | 0C 78 00 50 00 5D 00 48 00 00 | USER_NOT_BOUND | nobody, flagged "device-user-not-bound" |
      | 0C 78 00 50 00 5D 00 48 00 03 | USER_NOT_BOUND | nobody, flagged "device-user-not-bound" |
      | 0C 78 00 50 00 5D 00 48 00 FF | USER_UNKNOWN   | nobody, flagged "device-user-unknown"   |
      | 04 78 00 50 00 5D 00 48 00    | NO_USER        | nobody, flagged "device-user-missing"   |

  @REQ-ING-017
  Scenario Outline: A device bound as a whole keeps every user's reading on its patient; a control-solution test goes to nobody
    When the gateway forwards the "<characteristic>" payload "<bytes>"
    Then its readings are attributed <attribution> to <whom>

    Examples:
      | characteristic             | bytes                                  | attribution      | whom                               |
      | Blood Pressure Measurement | 0C 78 00 50 00 5D 00 48 00 02          | PATIENT          | patient "pt-7"                     |
      | Weight Measurement         | 04 00 37 03                            | PATIENT          | patient "pt-7"                     |
      | Glucose Measurement        | 02 01 00 00 00 00 00 00 00 00 5F B0 4A | CONTROL_SOLUTION | nobody, flagged "control-solution" |

  @REQ-ING-009 @REQ-ING-008
  Scenario Outline: A payload that does not decode is refused naming its field and kept with its bytes
    When the gateway forwards the "<characteristic>" payload "<bytes>"
    Then the payload is refused naming "<field>"
    And the quarantine of device "ble-1" holds the payload's bytes

    Examples:
      | characteristic          | bytes          | field                                     |
      | Temperature Measurement | 02 6C 01       | payloads[0].temperature_measurement_value |
      | Temperature Measurement | 02 6C 01 00 FF E6 07 | payloads[0].time_stamp              |
      | Heart Rate Measurement  | 01 2C          | payloads[0].heart_rate_measurement_value  |
      | Glucose Measurement     | 08 04 00 E6 07 07 01 08 1E 00 01 00 | payloads[0].flags    |
      | Weight Measurement      |                | payloads[0].flags                         |

  @REQ-ING-010
  Scenario: A device clock is read in the device's time zone, and the choice is recorded
    When the gateway forwards a temperature taken 10 minutes ago by the device's Berlin clock
    Then the reading is observed 10 minutes ago, flagged "time-from-device-clock"

  @REQ-ING-010
  Scenario: Without a time zone for the device, the gateway's receipt time decides
    Given device "ble-1" has no time zone configured
    When the gateway forwards a temperature taken 10 minutes ago by the device's Berlin clock, received 2 minutes ago
    Then the reading is observed 2 minutes ago, flagged "time-from-gateway-receipt"

  @REQ-SEC-005
  Scenario Outline: A LoRaWAN frame counter of the wrong type or range is refused naming it, never read as 0
    Given gateway "gw-home-7" forwards for LoRaWAN device "lw-1" with DevEUI "70b3d57ed0000001"
    When the gateway forwards a <server> uplink of session "s1" whose frame counter is <f_cnt>
    Then the payload is refused naming "payloads[0].f_cnt"
    And device "lw-1" has 0 stored readings

    Examples:
      | server              | f_cnt      |
      | ChirpStack v4       | "5"        |
      | ChirpStack v4       | -1         |
      | The Things Stack v3 | 4294967296 |
      | The Things Stack v3 | 5.5        |

  @REQ-ING-011 @REQ-ING-005
  Scenario Outline: LoRaWAN uplinks are deduplicated, and a replayed frame counter is refused
    Given gateway "gw-home-7" forwards for LoRaWAN device "lw-1" with DevEUI "70b3d57ed0000001"
    When the gateway forwards a <server> uplink of session "s1" frame 5 with heart rate 61
    Then the uplink is accepted
    When the gateway forwards a <server> uplink of session "s1" frame 5 with heart rate 61
    Then the uplink is acknowledged as a duplicate
    When the gateway forwards a <server> uplink of session "s1" frame 5 with heart rate 99
    Then the uplink is refused naming "payloads[0].readings[0].f_cnt"
    When the gateway forwards a <server> uplink of session "s2" frame 5 with heart rate 99
    Then the uplink is accepted
    And device "lw-1" has 2 stored readings

    Examples:
      | server              |
      | ChirpStack v4       |
      | The Things Stack v3 |
