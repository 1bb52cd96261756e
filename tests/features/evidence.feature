Feature: Compliance evidence in one command
  A quality team files the pack as it is: every requirement traced to the scenarios that verify
  it on each store, every risk to verified controls, every crate inside to a rationale, every
  built-in rule to its IMDRF category. A hole anywhere fails the pack and is named.

  @REQ-EVID-001
  Scenario: The pack of a run where everything passes shows it all and passes
    Given a copy of the repository with every requirement passing on both stores
    When the evidence pack is built
    Then it passes with no hole
    And the pack holds the matrix, risks, rules, SOUP, SBOM, audit verification and run record
    And every built-in rule is listed with its IMDRF category and priority

  @REQ-EVID-002
  Scenario: Each hole in the evidence is named and fails the pack
    Given a copy of the repository with every requirement passing on both stores
    And a requirement with no scenario
    And a failing scenario for REQ-AUDIT-001 on postgres
    And a hazard without a control
    And the direct dependency "tokio" without a SOUP entry
    And a SOUP entry for "left-pad", which is not in Cargo.lock
    When the evidence pack is built
    Then it fails naming:
      | REQ-NEW-001: no passing scenario on sqlite                          |
      | (verifies REQ-AUDIT-001): fails on postgres                         |
      | RISK-999: hazard has no risk control                                |
      | SOUP tokio: direct dependency without a rationale                   |
      | SOUP left-pad: listed in docs/soup.toml but no longer in Cargo.lock |

  @REQ-EVID-002
  Scenario: A changed requirement makes its scenario links suspect until they are reviewed
    Given a copy of the repository with every requirement passing on both stores
    And the statement of REQ-SUITE-001 is changed
    When the evidence pack is built
    Then it fails naming:
      | REQ-SUITE-001: statement changed since its scenarios were reviewed |
    When the scenarios of REQ-SUITE-001 are marked reviewed
    And the evidence pack is built
    Then it passes with no hole

  @REQ-EVID-003
  Scenario: Two packs of one commit differ only in the run record, and the signed manifest shows any change
    Given a copy of the repository with every requirement passing on both stores
    And a signing key
    When the evidence pack is built twice
    Then the two packs differ only in the run record and the page that shows it
    And the signed manifest verifies with the public key
    When a file of the pack is altered
    Then verification names the altered file

  @REQ-EVID-005
  Scenario: The threat model is in the pack, each threat traced, and its holes fail the pack
    Given a copy of the repository with every requirement passing on both stores
    When the evidence pack is built
    Then it passes with no hole
    And the pack holds the threat model with every threat traced to its requirements and tests
    Given a threat naming the requirement "REQ-NOPE-001" and the test "tests/features/nope.feature"
    And a security requirement "REQ-SEC-999" that answers no threat
    When the evidence pack is built
    Then it fails naming:
      | T-99 (docs/security.md): REQ-NOPE-001 is not a requirement                    |
      | T-99 (docs/security.md): tests/features/nope.feature is not in the repository |
      | REQ-SEC-999: security requirement that answers no threat                       |

  @REQ-EVID-004
  Scenario: An audit log of the run that does not verify is a hole
    Given a copy of the repository with every requirement passing on both stores
    And the audit log of one scenario's database on sqlite did not verify
    When the evidence pack is built
    Then it fails naming:
      | audit log of Audit:42 (a scenario) on sqlite: does not verify |
