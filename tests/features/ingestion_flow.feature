Feature: Ingestion under load: streams, rate limits and a bounded amount of work in flight
  Gateways keep long streams open, devices misbehave, and load comes in bursts. Every batch on a
  stream is acknowledged by its id, a runaway device is slowed without losing anything, and past
  its capacity the service says when to come back instead of growing without bound.

  @REQ-ING-012 @REQ-ING-006
  Scenario: Streamed batches are acknowledged by id, and resending after a crash stores nothing twice
    Given the suite runs with all services
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    When device "cgm-1" streams batches "s1,s2,s3" of 5 readings each
    Then the stream acknowledges "s1,s2,s3" in order, each with 5 accepted
    When the suite crashes and starts again on the same store
    And device "cgm-1" streams batches "s3,s4" of 5 readings each
    Then the stream acknowledges "s3,s4" in order, each with 5 accepted
    And batch "s3" was acknowledged as duplicates
    And device "cgm-1" has 20 stored readings

  @REQ-ING-013
  Scenario: A device past its rate limit is told when to retry, and nothing is quarantined
    Given the suite runs with all services, devices limited to 1 reading per second with a burst of 3
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit |
      | 1        | 8867-4 | 70    | /min |
      | 2        | 8867-4 | 71    | /min |
      | 3        | 8867-4 | 72    | /min |
      | 4        | 8867-4 | 73    | /min |
      | 5        | 8867-4 | 74    | /min |
    Then readings 1 to 3 are accepted and readings 4 to 5 are deferred with a retry delay
    And no reading of device "cgm-1" is in quarantine
    When 3 seconds pass and device "cgm-1" submits batch "b1" again
    Then readings 1 to 3 are duplicates and readings 4 to 5 are accepted

  @REQ-ING-014
  Scenario: Past the in-flight bound, callers get RESOURCE_EXHAUSTED with a retry delay
    Given the suite runs with all services and at most 1 batch in flight
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And another writer holds the reading log's write lock
    When device "cgm-1" starts a batch of 10 readings that waits for the lock
    And device "cgm-1" submits another batch meanwhile
    Then that batch is refused as RESOURCE_EXHAUSTED with a retry delay
    When the other writer lets go
    Then the waiting batch is acknowledged with 10 accepted

  @REQ-SEC-006
  Scenario: A flood of large batches is acknowledged and stored whole, or refused with RetryInfo — never INTERNAL
    Given the suite runs with all services
    When 64 batches of 500 readings from 16 devices arrive at once
    Then every batch is acknowledged and stored whole, or refused as RESOURCE_EXHAUSTED or UNAVAILABLE with RetryInfo
    When the store of the ingestion service stops answering
    And 4 batches of 10 readings from 2 devices arrive at once
    Then every batch is refused as UNAVAILABLE with RetryInfo
