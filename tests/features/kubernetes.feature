Feature: The Kubernetes manifests as shipped run as separate, replicated services
  What a hospital deploys is what is tested: `sentinel bootstrap` writes the secrets, kustomize
  renders deploy/kubernetes (the base, or a TLS overlay), the migration Job runs, and every
  Deployment's container runs with its arguments, environment and mounted files as separate
  processes — two replicas each, each with its own host name — behind its Service, against a
  throwaway PostgreSQL (the manifests need one, whichever store the other scenarios run on).

  @REQ-SUITE-009 @REQ-SUITE-011 @serial
  Scenario Outline: The <variant> manifests carry readings to acknowledged alerts while a replica of every service is killed
    Given the "<variant>" manifests deployed as separate processes
    When devices send glucose readings through the Services while one replica of each service is killed and started again
    Then every acknowledged reading is stored and every expected alert was raised exactly once and acknowledged
    And every service is connected to the database as its own login role, not as the owner
    And the partitions of patients of the killed rules replica were taken over within 10 seconds
    And the deployment's audit log verifies intact
    And a clinician watching one rules replica is told of each alert another replica raised within 1000 ms of its reading's acknowledgement

    Examples:
      | variant         |
      | base            |
      | tls/server-only |
      | tls/mutual      |

  @REQ-SUITE-009 @REQ-AUTH-007 @serial
  Scenario: A revoked audit service credential leaves every process bounded and the audit log not ready
    Given the "base" manifests deployed as separate processes
    Then the audit log's credential revoked, every process stays bounded while callers knock for 10 seconds, and the audit replicas report NOT_SERVING

  @REQ-SUITE-010
  Scenario: Each service runs with only the database privileges of its own role
    Given a PostgreSQL database migrated by its owner, and a login role per service that is a member of only that service's role
    Then the services, each in a server of its own on its own role, carry a device's low glucose to an alert, and each role is refused DDL, other services' tables, deleting audit records and rewriting the migration history
