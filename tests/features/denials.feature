Feature: Refused calls never amplify and never grow the audit log without bound
  The first refused call of a kind (RPC, reason, caller) in a window is audited in full; repeats
  are counted, and one record per kind says how many there were when the window ends. Kinds per
  window are capped. So anyone who can reach a port — with or without a credential — grows the
  permanent log at a bounded rate, and a refused service-to-service call cannot start a loop of
  calls that are refused the same way.

  @REQ-AUTH-007
  Scenario: Repeated refused calls are recorded once per window, then summarised with their count
    Given the suite runs with the services "registry,audit" summarising denials every 2000 ms
    When 100 calls without a credential ask the registry for a device
    Then within 6 seconds the audit log accounts for all 100 refused calls of "GetDevice" with reason "no_credential", in one record in full and at most one summary per window

  @REQ-AUTH-007
  Scenario: A revoked service credential of the audit log starts no loop of denials
    Given the suite runs with the services "registry" and the audit log in a server of its own, with its own service credential
    When the audit log's service credential is revoked
    And a client calls the audit log 20 times
    Then the calls are refused as UNAVAILABLE or UNAUTHENTICATED
    And the number of auth.denied records stops growing within 2 seconds, at 10 or fewer

  @REQ-SEC-008
  Scenario: An address refused over and over is held back, and callers with a credential are not
    Given the suite runs with the services "registry,audit"
    When 300 calls without a credential ask the registry for a device at once
    Then at least 200 were refused as UNAUTHENTICATED and at least 50 as RESOURCE_EXHAUSTED with RetryInfo
    And the admin, from the same address, is still answered
