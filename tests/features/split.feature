Feature: Services in separate servers reach each other through their contracts
  At scale each service runs in its own process. A service calls its peers through one client
  that presents the service's own credential on every call; a peer that is down makes calls
  fail UNAVAILABLE — a status gateways retry — and once it is back, calls succeed without
  restarting anything. Here reading ingestion runs as a server of its own (its own listener,
  store and credential) beside the suite's registry and audit log, reaching them only at their
  network address, as a separate Deployment does.

  @REQ-SUITE-005
  Scenario: Reading ingestion in a server of its own authenticates, looks devices up and audits through its peers
    Given the suite runs with the services "registry,audit"
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And reading ingestion runs in a server of its own, with its own store and service credential and the suite as its peers
    When device "cgm-1" sends batch "split-1" to that server
    Then that server accepts the batch, attributed to patient "pt-1"
    And the audit log records "readings.accepted" for batch "split-1" with 1 accepted

  @REQ-SUITE-005
  Scenario: A peer that is down makes calls UNAVAILABLE until it is back
    Given the suite runs with the services "registry,audit"
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And reading ingestion runs in a server of its own, with its own store and service credential and the suite as its peers
    When the suite stops
    And device "cgm-1" sends batch "split-2" to that server
    Then that server refuses the batch as UNAVAILABLE
    When the suite starts again on its address and store
    And device "cgm-1" sends batch "split-2" to that server
    Then that server accepts the batch, attributed to patient "pt-1"
    And the audit log records "readings.accepted" for batch "split-2" with 1 accepted
