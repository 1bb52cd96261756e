Feature: Rule evaluation scales out by patient, through fenced leases
  Patients fall into 16 partitions; each is evaluated by the one rules replica holding its lease
  in the rules store. A replica that lost a lease commits nothing for that partition (its fence
  is stale), and the next holder evaluates from the last committed position: nothing is
  evaluated twice, nothing is skipped. One process on the embedded store holds all 16.

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
