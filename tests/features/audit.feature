Feature: A tamper-evident, signed audit log of every action
  Every service records what it does in one Merkle log, hashed as RFC 6962 says. Each record is
  signed as part of the log head it creates, signed checkpoints are published, and a holder of
  the public key alone can check the log, an export of it, or a proof about it.

  @REQ-AUDIT-001
  Scenario: Audited actions can be listed, filtered and fetched
    Given the suite runs with the services "registry,audit"
    When these actions are audited:
      | actor  | action             | subject type | subject id |
      | user-a | alert.acknowledged | alert        | alert-1    |
      | user-b | rule.approved      | rule         | rule-7     |
      | user-a | alert.resolved     | alert        | alert-1    |
    Then the audited records have the sequences "0,1,2" in time order
    And listing by actor "user-a" gives the sequences "0,2"
    And listing by action "rule.approved" gives the sequences "1"
    And listing by subject "alert" "alert-1" gives the sequences "0,2"
    And record 1 renders as a FHIR AuditEvent with action "U" by agent "user-b"

  @REQ-AUDIT-002
  Scenario: An entry with an empty actor and an unknown action is refused
    Given the suite runs with the services "registry,audit"
    When an entry by actor "" with action "alert.deleted" is appended
    Then the append is refused as INVALID_ARGUMENT naming "entry.actor.id" and "entry.action"
    And the audit log holds 0 records

  @REQ-AUDIT-003
  Scenario: Sixteen concurrent callers produce one gap-free chain
    Given the suite runs with the services "registry,audit"
    When 16 callers each audit 20 actions at once
    Then the audit log holds the sequences 0 to 319 without a gap
    And verification reports the log intact with tree size 320

  @REQ-AUDIT-004
  Scenario: An untouched log verifies intact
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When the audit log is verified
    Then verification reports the log intact with tree size 10

  @REQ-AUDIT-005
  Scenario Outline: Tampering behind the database's back is found at the first bad record
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When someone with direct access to the database <tampering>
    And the audit log is verified
    Then verification reports the log broken at sequence <sequence> because "<because>"

    Examples:
      | tampering                               | sequence | because                     |
      | changes the actor of record 6           | 6        | a field was changed         |
      | deletes record 4                        | 4        | record missing              |
      | swaps records 4 and 5                   | 4        | a field was changed         |
      | appends a record forged without the key | 10       | forged without the log's key |
      | deletes every record                    | 0        | removed from the end        |

  @REQ-AUDIT-005
  Scenario: The service refuses to append onto a tampered history
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When someone with direct access to the database appends a record forged without the key
    And an action is audited
    Then the append is refused as UNAVAILABLE

  @REQ-AUDIT-006
  Scenario: An inclusion proof verifies with the public key, and not against another root or size
    Given the suite runs with the services "registry,audit"
    And 13 actions have been audited
    When a client asks for proof that record 6 is in the log of size 13
    Then the proof verifies against the signed checkpoint of size 13 with the log's public key
    And the proof fails against a changed root
    And the proof fails against the signed checkpoint of size 12

  @REQ-AUDIT-006
  Scenario: A consistency proof shows an older log is a prefix of a newer one
    Given the suite runs with the services "registry,audit"
    And 13 actions have been audited
    When a client asks for proof that the log of size 5 is a prefix of the log of size 13
    Then the proof verifies against both signed checkpoints with the log's public key
    And the proof fails against a changed root of the older log
    And the proof fails against the signed checkpoint of size 12 as the newer log

  @REQ-AUDIT-007
  Scenario: The database refuses to update or delete audit history
    Given the suite runs with the services "registry,audit"
    And 3 actions have been audited
    Then the database refuses each of:
      | statement                                                |
      | UPDATE audit_records SET actor_id = 'someone-else'       |
      | DELETE FROM audit_records WHERE sequence = 1             |
      | UPDATE audit_checkpoints SET note = 'rewritten'          |
      | DELETE FROM audit_checkpoints                            |
    And verification reports the log intact with tree size 3

  @REQ-AUDIT-008
  Scenario: Signed checkpoints are published every N records
    Given the suite runs with the audit service publishing a checkpoint every 5 records
    When 12 actions are audited one after another
    Then the latest checkpoint is a signed note for size 11 that verifies with the log's public key

  @REQ-AUDIT-009
  Scenario: An auditor verifies the store offline with the public key alone
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When an auditor runs sentinel audit verify on the store with the log's public key
    Then it exits with status 0 and reports "intact: 10 records"
    When someone with direct access to the database changes the actor of record 6
    And an auditor runs sentinel audit verify on the store with the log's public key
    Then it exits with status 1 and reports "BROKEN at sequence 6"

  @REQ-AUDIT-009
  Scenario: An auditor verifies an export offline
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When an auditor exports the log and verifies the export with the log's public key
    Then it exits with status 0 and reports "intact: 10 records"
    When the export's record 3 is altered and the export verified again
    Then it exits with status 1 and reports "BROKEN at sequence 3"

  @REQ-AUDIT-012
  Scenario: A log appended to while it is verified and exported verifies intact every time
    Given the suite runs with the audit service publishing a checkpoint every 1 records
    When an auditor verifies the store and an export of it 20 times while actions are audited
    Then every verification exits with status 0 and reports "intact: "

  @REQ-AUDIT-006
  Scenario: A record changed behind the service's back gets no proof of inclusion
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When someone with direct access to the database changes the actor of record 6
    And a client asks for proof that record 6 is in the log of size 10
    Then the proof is refused as FAILED_PRECONDITION naming record 6

  @REQ-AUDIT-014
  Scenario: An auditor checks a proof offline, from the record it carries
    Given the suite runs with the services "registry,audit"
    And 10 actions have been audited
    When a client saves the proof that record 4 is in the log as JSON
    And an auditor runs sentinel audit verify-proof on it with the log's public key
    Then it exits with status 0 and reports "valid: record 4 is in the log of size 10"
    When the saved proof's record is changed from "user-4" to "user-X" and checked again
    Then it exits with status 1 and reports "INVALID: record 4 as given is not in the log of size 10"

  @REQ-AUDIT-013
  Scenario Outline: A log cut short or emptied with its checkpoints fails against the head the auditor kept
    # Checkpoints are published at sizes 1, 6, 11: the latest after 11 actions covers them all.
    Given the suite runs with the audit service publishing a checkpoint every 5 records
    And 11 actions have been audited
    And the auditor keeps <kept>
    When someone with direct access to the database <tampering>
    And an auditor runs sentinel audit verify on the store with the log's public key
    Then it exits with status 0 and reports "intact: "
    When an auditor runs sentinel audit verify on the store against the head they kept
    Then it exits with status 1 and reports "BROKEN at sequence <sequence>: not an extension of the trusted checkpoint of size 11"

    Examples:
      | kept                                          | tampering                                              | sequence |
      | the latest signed checkpoint                  | cuts the log to 6 records and removes its checkpoints | 6        |
      | the tree size and head hash verify reports    | cuts the log to 6 records and removes its checkpoints | 6        |
      | the latest signed checkpoint                  | empties the log and its checkpoints                    | 0        |
      | the witness file the service writes           | cuts the log to 6 records and removes its checkpoints | 6        |

  @REQ-AUDIT-013
  Scenario: A log that grew since the auditor's last look verifies against the head they kept
    Given the suite runs with the audit service publishing a checkpoint every 5 records
    And 11 actions have been audited
    And the auditor keeps the latest signed checkpoint
    When 6 actions are audited one after another
    And an auditor runs sentinel audit verify on the store against the head they kept
    Then it exits with status 0 and reports "intact: 17 records"

  @REQ-AUDIT-010
  Scenario: A configured signing key that is missing stops the audit service
    When the suite starts the audit service with the signing key file "missing.key"
    Then it refuses to start naming "missing.key"

  @REQ-AUDIT-010
  Scenario: A first embedded run generates the signing key and prints its public key
    When sentinel serve starts
    Then it serves
    And the data directory holds an audit signing key only its owner can read
    And once stopped, its log showed the audit log's public key

  @REQ-AUDIT-011
  Scenario: A service's action is audited with its caller, or refused when the log is unreachable
    Given the suite runs with the services "registry,audit"
    When the rules service records that user "user-7f3a" approved rule "rule-01"
    Then the audit log's record 0 names actor "user-7f3a" as "rule-approver" in service "rules"
    When the rules service records an action while the audit log is unreachable
    Then the action is refused as UNAVAILABLE
