Feature: A split deployment is bootstrapped in one step
  `sentinel bootstrap` writes everything a split deployment needs besides its database: each
  service's own credential, the first admin's, the identities the registry makes sure of (digests
  only) and the audit log's signing key, as files only their owner can read, to be mounted as
  Secrets. Services started from those files authenticate one another on their first start, with
  no credential issued by hand; running it again keeps a running deployment valid, and rotating
  revokes the previous service credentials at the registry's next start. With `--tls` it also
  makes a private CA and the services' certificate, for deployments without cert-manager.

  @REQ-SUITE-006
  Scenario: Services started from the bootstrap files reach each other on their first start
    Given a deployment bootstrapped with `sentinel bootstrap`
    And the registry and the audit log run in one server from the bootstrap files
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And reading ingestion runs in a server of its own from the bootstrap files, with the suite as its peers
    When device "cgm-1" sends batch "boot-1" to that server
    Then that server accepts the batch, attributed to patient "pt-1"
    And the audit log records "readings.accepted" for batch "boot-1" with 1 accepted
    And the registry holds the bootstrap credentials of "sentinel-registry,sentinel-ingestion,sentinel-rules,sentinel-audit,admin" as valid

  @REQ-SUITE-006
  Scenario: Bootstrapping again keeps the deployment valid; rotating revokes the old service credentials
    Given a deployment bootstrapped with `sentinel bootstrap`
    And the registry and the audit log run in one server from the bootstrap files
    When `sentinel bootstrap` runs again on the same directory
    And the suite restarts from the bootstrap files
    Then the service credentials of the first bootstrap are still valid
    When `sentinel bootstrap --rotate` runs on the same directory
    And the suite restarts from the bootstrap files
    Then the service credentials of the first bootstrap are refused as revoked
    And the registry holds the bootstrap credentials of "sentinel-registry,sentinel-ingestion,sentinel-rules,sentinel-audit,admin" as valid

  @REQ-SUITE-012
  Scenario: With --tls, bootstrap makes the certificates for mutual TLS between the services and their clients
    Given a deployment bootstrapped with `sentinel bootstrap --tls --tls-name localhost`
    Then its tls directory holds exactly "ca.crt,tls.crt,tls.key", and the CA's key lies beside it, each readable by its owner only
    When the registry and the audit log run in one server from the bootstrap files, with mutual TLS from its tls directory
    Then a client with a certificate from that authority is served
    And a client without a certificate is refused
    And a client with a certificate from another authority is refused
    And an admin with a certificate from that authority registers a device, audited through the suite's own TLS calls
