Feature: The suite serves health and reflection for its services
  Orchestrator probes, grpcurl and generated clients discover and check every service of a
  running suite over the standard gRPC health and reflection protocols.

  @REQ-SUITE-001
  Scenario: Every service of a full suite is serving
    Given the suite runs with all services
    Then health reports SERVING for each of:
      | service                                 |
      | sentinel.registry.v1.DeviceRegistry     |
      | sentinel.ingestion.v1.ReadingIngestion  |
      | sentinel.rules.v1.ClinicalRules         |
      | sentinel.audit.v1.AuditLog              |
    And health reports SERVING for the whole server

  @REQ-SUITE-002
  Scenario: The registry run alone serves only itself
    Given the suite runs with the services "registry"
    Then health reports SERVING for each of:
      | service                                 |
      | sentinel.registry.v1.DeviceRegistry     |
    And health reports NOT_FOUND for each of:
      | service                                 |
      | sentinel.ingestion.v1.ReadingIngestion  |
      | sentinel.rules.v1.ClinicalRules         |
      | sentinel.audit.v1.AuditLog              |

  @REQ-SUITE-003
  Scenario Outline: Reflection <version> lists exactly the services served
    Given the suite runs with the services "registry,audit"
    When a client lists the services by reflection <version>
    Then the listed services are exactly:
      | service                                  |
      | grpc.health.v1.Health                    |
      | grpc.reflection.v1.ServerReflection      |
      | grpc.reflection.v1alpha.ServerReflection |
      | sentinel.audit.v1.AuditLog               |
      | sentinel.registry.v1.DeviceRegistry      |

    Examples:
      | version |
      | v1      |
      | v1alpha |

  @REQ-SUITE-003
  Scenario: Reflection describes a service's contract
    Given the suite runs with all services
    When a client asks reflection for the file defining "sentinel.audit.v1.AuditLog"
    Then reflection answers with the file "sentinel/audit/v1/audit.proto"

  @REQ-SUITE-004
  Scenario: A service whose store stops answering is reported NOT_SERVING
    Given the suite runs with the services "registry" checking health every 20 ms
    Then health reports SERVING for the whole server
    When the store of the registry service stops answering
    Then within 2 seconds health reports NOT_SERVING for "sentinel.registry.v1.DeviceRegistry"
    And health reports NOT_SERVING for the whole server
