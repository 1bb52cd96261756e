Feature: The quarantine is bounded
  Rejected readings are kept so that nothing vanishes silently — but a device gone wrong, or an
  attacker with a device credential, must not fill the disk with them. The quarantine keeps at
  most so many unresolved readings per device and in all; past that a rejected reading is still
  answered with its violations, and told it was not kept. A large input is kept once, as its size
  and digest, and no violation copies it.

  @REQ-SEC-007
  Scenario: The quarantine keeps at most its cap per device; past it a rejected reading is refused, not kept, saying so
    Given the suite runs with all services, keeping at most 3 rejected readings per device in quarantine
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    When device "cgm-1" submits 5 readings in units nobody uses, as batch "junk-1"
    Then 2 of the batch's readings were refused and not kept, saying so, and device "cgm-1" has 3 in quarantine
    When device "cgm-1" submits 2 readings in units nobody uses, as batch "junk-2"
    Then 2 of the batch's readings were refused and not kept, saying so, and device "cgm-1" has 3 in quarantine

  @REQ-SEC-007
  Scenario: A large rejected reading is kept once, not echoed by its violations
    Given the suite runs with all services
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    When device "cgm-1" submits a reading whose unit is 20000 characters long
    Then the quarantine of device "cgm-1" keeps the reading's size and SHA-256 in place of it, and no violation longer than 201 characters
