Feature: Readiness tells the truth
  A service reports SERVING only while it can do its work: its store answers, it can
  authenticate its callers (the registry answers and accepts the service's own credential), and
  the peers it calls answer SERVING. Orchestrators then send work only to pods that can do it;
  the reason a service is not ready is logged once, when it changes.

  @REQ-SUITE-007
  Scenario: A service that cannot authenticate its callers is not ready
    Given the suite runs with the services "ingestion"
    Then health reports NOT_SERVING for each of:
      | service                                 |
      | sentinel.ingestion.v1.ReadingIngestion  |
    And health reports NOT_SERVING for the whole server

  @REQ-SUITE-007
  Scenario: A service in a server of its own is ready while its peers are, and not while one is down
    Given the suite runs with the services "registry,audit"
    And reading ingestion runs in a server of its own, with its own store and service credential and the suite as its peers
    Then within 3 seconds health of the ingestion server reports SERVING
    When the suite stops
    Then within 3 seconds health of the ingestion server reports NOT_SERVING
    When the suite starts again on its address and store
    Then within 3 seconds health of the ingestion server reports SERVING

  @REQ-SUITE-007
  Scenario: A service whose own credential is revoked is not ready, and stays bounded
    Given the suite runs with the services "registry" and the audit log in a server of its own, with its own service credential
    Then within 3 seconds health of the audit server reports SERVING
    When the audit log's service credential is revoked
    Then within 3 seconds health of the audit server reports NOT_SERVING
    And the number of auth.denied records stops growing within 2 seconds, at 10 or fewer

  @REQ-SUITE-007
  Scenario: Health is also served alone in plaintext, for probes that cannot speak TLS
    Given the suite runs with mutual TLS from a fresh certificate authority and a plaintext health listener
    Then a plaintext client is refused
    And the health listener answers SERVING in plaintext for "sentinel.registry.v1.DeviceRegistry"
    And the health listener answers SERVING in plaintext for ""
    And the health listener answers NOT_FOUND in plaintext for "sentinel.rules.v1.ClinicalRules"

  @REQ-SUITE-007
  Scenario: A rules replica holding no partition of patients is not ready until it holds one
    Given the suite runs with all services, with partition leases of 600 ms
    When another replica takes the lease of every partition for 2 seconds
    Then within 2 seconds health reports NOT_SERVING for "sentinel.rules.v1.ClinicalRules"
    And within 6 seconds health reports SERVING for "sentinel.rules.v1.ClinicalRules"
