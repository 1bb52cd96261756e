Feature: Configuration is layered, validated, and refused loudly when wrong
  An operator configures Sentinel with a TOML file, SENTINEL_ environment variables and flags.
  A wrong value never starts a suite that does something other than what was asked.

  @REQ-CONF-001
  Scenario Outline: A bad value stops sentinel before it serves, naming the key
    Given the <layer> "<name>" is "<value>"
    When sentinel serve starts
    Then it exits with status 2 without serving
    And it prints one line naming "<key>", "<origin>" and "<rule>"

    Examples:
      | layer                | name                | value          | key                 | origin                                 | rule                     |
      | flag                 | --listen            | nowhere        | `listen`            | command-line flag --listen             | expected IP:PORT         |
      | flag                 | --services          | audit,alerts   | `services`          | command-line flag --services           | unknown service `alerts` |
      | environment variable | SENTINEL_LOG__FORMAT | xml           | `log.format`        | environment variable SENTINEL_LOG__FORMAT | expected text or json   |
      | environment variable | SENTINEL_DATABASE_URL | mysql://db   | `database_url`      | environment variable SENTINEL_DATABASE_URL | must be a postgres://   |
      | config file key      | health.check_interval_ms | 0         | `health.check_interval_ms` | file                                   | must be greater than 0   |

  @REQ-CONF-001
  Scenario: An unknown key in the configuration file is refused
    Given the config file key "log.formt" is "\"json\""
    When sentinel serve starts
    Then it exits with status 2 without serving
    And it prints one line naming "formt", "sentinel.toml" and "unknown field"

  @REQ-CONF-002
  Scenario: Flags win over the environment, which wins over the file
    Given the config file key "services" is "[\"rules\"]"
    And the environment variable "SENTINEL_SERVICES" is "audit,rules"
    And the flag "--services" is "registry"
    When sentinel serve starts
    Then it serves
    And health reports SERVING for "sentinel.registry.v1.DeviceRegistry"
    And health reports NOT_FOUND for "sentinel.rules.v1.ClinicalRules"
    And health reports NOT_FOUND for "sentinel.audit.v1.AuditLog"

  @REQ-CONF-002
  Scenario: The environment wins over the file
    Given the config file key "services" is "[\"rules\"]"
    And the environment variable "SENTINEL_SERVICES" is "registry"
    When sentinel serve starts
    Then it serves
    And health reports SERVING for "sentinel.registry.v1.DeviceRegistry"
    And health reports NOT_FOUND for "sentinel.rules.v1.ClinicalRules"

  @REQ-AUTH-006
  Scenario: Mutual TLS admits only clients with a certificate from the configured CA
    Given the suite runs with mutual TLS from a fresh certificate authority
    Then a client with a certificate from that authority is served
    And a client without a certificate is refused
    And a client with a certificate from another authority is refused
    And a plaintext client is refused

  @REQ-AUTH-006
  Scenario: Server-only TLS serves clients without a certificate, and the suite's own calls trust its bundle
    Given the suite runs with server-only TLS from a fresh certificate authority, trusting it for its own calls
    Then a client without a certificate is served
    And a plaintext client is refused
    And an admin without a client certificate registers a device, audited through the suite's own TLS calls

  @REQ-SUITE-008
  Scenario: With schema changes a separate step, serve refuses an unmigrated store until `sentinel migrate` ran
    Given the environment variable "SENTINEL_MIGRATE_ON_START" is "false"
    When sentinel serve starts
    Then it exits with status 1 without serving
    And it prints one line naming "lacks migration", "sentinel migrate" and "migrate_on_start"
    When `sentinel migrate` runs on that store
    And sentinel serve starts again on that store
    Then it serves

  @REQ-SEC-001
  Scenario: Plaintext beyond loopback is refused at start, saying how to configure TLS
    Given the flag "--listen" is "0.0.0.0:50099"
    When sentinel serve starts
    Then it exits with status 2 without serving
    And it prints one line naming "`listen` (from command-line flag --listen)", "tls.cert_file" and "tls.allow_plaintext"

  @REQ-SEC-001
  Scenario: Plaintext beyond loopback, explicitly allowed, serves with a warning and a plaintext hint
    Given the environment variable "SENTINEL_TLS__ALLOW_PLAINTEXT" is "true"
    When sentinel serve starts on every interface
    Then it serves
    And once stopped, its log says "serving plaintext beyond loopback" and "grpcurl -plaintext"

  @REQ-SUITE-013
  Scenario: A stop signal that arrives as soon as the port accepts connections is a clean stop
    When sentinel serve starts and is sent SIGTERM as soon as its port accepts connections
    Then it exits with status 0, its log saying "reach it with" and then "shutting down"

  @REQ-SEC-002
  Scenario: Under umask 000 everything the suite writes to disk is its owner's alone; what others may read is warned of
    When sentinel serve starts under umask 000 with a data directory of its own making
    Then every directory and file in its data directory is its owner's alone
    When its data directory and stores are opened to others and sentinel serve starts again
    Then once stopped, its log warns of each that others may read
