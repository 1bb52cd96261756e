Feature: Devices, patients' bindings and who may call what
  The registry knows every device the hospital registered, which patient each was bound to at any
  moment, and every credential; each call is admitted only for the roles it accepts.

  Background:
    Given the suite runs with the services "registry,audit"

  @REQ-REG-001
  Scenario: A device goes through its lifecycle, every step audited
    When the admin registers device "cgm-1"
    And the admin suspends device "cgm-1"
    And the admin reactivates device "cgm-1"
    And the admin decommissions device "cgm-1"
    Then device "cgm-1" has the status history "active,suspended,active,decommissioned"
    And the admin reactivating device "cgm-1" is refused as FAILED_PRECONDITION
    And the audit log shows "device.registered,device.suspended,device.reactivated,device.decommissioned" for device "cgm-1" by "admin"

  @REQ-REG-002
  Scenario Outline: A malformed device is refused naming the field
    When the admin registers a device whose <field> is "<value>"
    Then the call is refused as INVALID_ARGUMENT naming "spec.<field>"

    Examples:
      | field        | value          |
      | serial       |                |
      | care_setting | in-space       |
      | transport    | carrier-pigeon |
      | kind         | Not A Code     |

  @REQ-REG-002
  Scenario: A duplicate serial and an unknown device are refused
    Given the admin registers device "cgm-1"
    When the admin registers device "cgm-1" again
    Then the call is refused as ALREADY_EXISTS
    When the admin asks for an unknown device
    Then the call is refused as NOT_FOUND

  @REQ-REG-003
  Scenario Outline: The registry answers which patient a device was bound to at a time
    Given the admin registers device "cgm-1"
    And device "cgm-1" was bound to patient "pt-a" from hour 0 to hour 2
    And device "cgm-1" was bound to patient "pt-b" from hour 3 on
    Then at hour <hour> device "cgm-1" was bound to <patient>

    Examples:
      | hour | patient       |
      | -1   | nobody        |
      | 0    | patient pt-a  |
      | 1    | patient pt-a  |
      | 2    | nobody        |
      | 3    | patient pt-b  |
      | 100  | patient pt-b  |

  @REQ-REG-003
  Scenario: An overlapping binding is refused naming the binding it overlaps
    Given the admin registers device "cgm-1"
    And device "cgm-1" was bound to patient "pt-a" from hour 0 to hour 2
    When device "cgm-1" is bound to patient "pt-c" from hour 1
    Then the call is refused as FAILED_PRECONDITION naming the binding of patient "pt-a"

  @REQ-REG-005
  Scenario: Users of a shared device are bound side by side, never over one another
    Given the admin registers device "cuff-1"
    And device "cuff-1" was bound for user 1 to patient "pt-a" from hour 0 on
    When device "cuff-1" is bound for user 2 to patient "pt-b" from hour 1
    Then the call succeeds
    And device "cuff-1" has no single current patient
    When device "cuff-1" is bound for user 1 to patient "pt-c" from hour 2
    Then the call is refused as FAILED_PRECONDITION naming the binding of patient "pt-a"
    When device "cuff-1" is bound to patient "pt-c" from hour 2
    Then the call is refused as FAILED_PRECONDITION naming the binding of patient "pt-a"
    When device "cuff-1" is bound for user 255 to patient "pt-c" from hour 2
    Then the call is refused as INVALID_ARGUMENT naming "user"
    When device "cuff-1" is unbound without naming a user at hour 3
    Then the call is refused as INVALID_ARGUMENT naming "user"
    When device "cuff-1" is unbound for user 2 at hour 3
    Then the call succeeds
    And device "cuff-1" is now bound to patient "pt-a"
    And at hour 2 device "cuff-1" user 2 was bound to patient pt-b
    And at hour 3 device "cuff-1" user 2 was bound to nobody
    And at hour 3 device "cuff-1" user 1 was bound to patient pt-a
    And at hour 3 device "cuff-1" user 7 was bound to nobody
    And at hour 3 device "cuff-1" was bound to nobody

  @REQ-REG-004 @REQ-AUTH-004
  Scenario: A first run prints where the admin credential is, and logs no secret or patient
    When sentinel serve runs with debug logging, binds a device to patient "pt-secret-ref-77" and is called with a wrong credential
    Then the first admin credential is in a file only its owner can read, and it works
    And the log names that file but contains no credential secret and no patient reference

  @REQ-AUTH-001 @REQ-AUTH-005
  Scenario: Calls without a valid credential are refused and audited
    When a caller without a credential asks for device "dev-x"
    Then the call is refused as UNAUTHENTICATED
    When a caller with an unknown credential asks for device "dev-x"
    Then the call is refused as UNAUTHENTICATED
    And the audit log records auth.denied for "GetDevice" with reasons "no_credential,unknown_or_revoked_credential" and no secret

  @REQ-AUTH-002
  Scenario Outline: Each call admits only its roles
    Given the admin registers device "cgm-1"
    And a user "<user>" holds the role "<role>"
    When "<user>" calls <rpc> on device "cgm-1"
    Then the call <outcome>

    Examples:
      | user      | role       | rpc              | outcome                          |
      | nurse-ann | clinician  | GetDevice        | succeeds                         |
      | nurse-ann | clinician  | BindDevice       | succeeds                         |
      | nurse-ann | clinician  | RegisterDevice   | is refused as PERMISSION_DENIED  |
      | nurse-ann | clinician  | SuspendDevice    | is refused as PERMISSION_DENIED  |
      | qa-bob    | quality    | ListCredentials  | succeeds                         |
      | qa-bob    | quality    | SuspendDevice    | is refused as PERMISSION_DENIED  |
      | int-cy    | integrator | RegisterDevice   | succeeds                         |
      | int-cy    | integrator | IssueCredential  | is refused as PERMISSION_DENIED  |

  @REQ-AUTH-002
  Scenario: A device credential acts only for its own device
    Given the admin registers device "cgm-1"
    And the admin registers device "cgm-2"
    And device "cgm-1" holds a device credential
    When device "cgm-1" asks for device "cgm-1"
    Then the call succeeds
    When device "cgm-1" asks for device "cgm-2"
    Then the call is refused as PERMISSION_DENIED

  @REQ-AUTH-003
  Scenario: Rotation and revocation take effect on the next call
    Given a user "int-cy" holds the role "integrator"
    When the admin rotates the credential of "int-cy"
    Then "int-cy" with the old credential is refused as UNAUTHENTICATED
    And "int-cy" with the new credential can list devices
    When the admin revokes the credential of "int-cy"
    Then "int-cy" with the new credential is refused as UNAUTHENTICATED
    And the audit log shows "credential.issued,credential.rotated" for the credential of "int-cy"
