Feature: Rule evaluation scales out by patient, through fenced leases
  Patients fall into 16 partitions; each is evaluated by the one rules replica holding its lease
  in the rules store. A replica that lost a lease commits nothing for that partition (its fence
  is stale), and the next holder evaluates from the last committed position: nothing is
  evaluated twice, nothing is skipped. One process on the embedded store holds all 16.
  Escalation and the silence watch look after the patients of the partitions a replica holds.

  @REQ-RUL-019
  Scenario: One rules replica holds every partition of patients
    Given the suite runs with all services, with partition leases of 600 ms
    Then within 3 seconds one replica holds all 16 partitions

  @REQ-RUL-019
  Scenario: A replica that lost a partition's lease commits nothing for it; the next holder evaluates each reading once
    Given the suite runs with all services, with partition leases of 600 ms
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician
    And within 3 seconds one replica holds all 16 partitions
    When another replica takes the lease of the partition of patient "pt-1" for 2 seconds
    And device "cgm-1" reports "2339-0 65 mg/dL"
    Then for 1 second patient "pt-1" has 0 alert in all
    And within 8 seconds patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    And patient "pt-1" has 1 alert in all

  @REQ-RUL-020
  Scenario: Escalation leaves the patients of a partition held elsewhere to its holder
    Given the suite runs with all services, with partition leases of 600 ms, escalating unacknowledged alerts after 2 seconds
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician
    And within 3 seconds one replica holds all 16 partitions
    When device "cgm-1" reports "2339-0 60 mg/dL"
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1"
    When another replica takes the lease of the partition of patient "pt-1" for 5 seconds
    Then for 4 seconds the alert of "rule-hypoglycaemia-level-1" stays at priority "medium"
    And the alert of "rule-hypoglycaemia-level-1" escalates to priority "high" at tier 1 or beyond

  @REQ-RUL-020
  Scenario: The silence watch leaves the patients of a partition held elsewhere to its holder
    Given the suite runs with all services, with partition leases of 600 ms, judging device silence every second
    And a "smart-scale" "scale-1", expected every 2 seconds, is bound to patient "pt-1" and holds a device credential
    And "nurse" is a clinician
    And within 3 seconds one replica holds all 16 partitions
    When device "scale-1" reports "29463-7 80 kg"
    Then patient "pt-1" has open alerts ""
    When another replica takes the lease of the partition of patient "pt-1" for 12 seconds
    Then for 10 second patient "pt-1" has 0 alert in all
    And within 15 seconds patient "pt-1" has open alerts "rule-device-silence"
