Feature: Clinicians sign in with the hospital's identity provider
  Hospitals run an OpenID Connect identity provider (Keycloak, Entra ID, Okta…). Sentinel accepts
  the bearer tokens it signs beside its own credentials: the signature is checked against the keys
  the provider publishes (RS256 or ES256), the issuer and audience must be the configured ones,
  expiry and not-before are enforced with a small leeway, the provider's groups map to Sentinel's
  roles, and the person the token names is the actor of what they do in the audit trail. A refused
  token is told why, and never echoed back. Sentinel's own credentials may carry an expiry too.

  @REQ-SEC-003
  Scenario: A nurse signed in with the identity provider acknowledges an alert, recorded as herself
    Given the suite runs with all services, signing in with the hospital's identity provider
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And "nurse-ann@hospital.test" signs in with an ES256 token of the identity provider as a member of "ward-nurses"
    When device "cgm-1" submits batch "b1" with the readings:
      | sequence | code   | value | unit  |
      | 1        | 2339-0 | 50    | mg/dL |
    Then patient "pt-1" has open alerts "rule-hypoglycaemia-level-1,rule-hypoglycaemia-level-2"
    When "nurse-ann@hospital.test" acknowledges the alert of "rule-hypoglycaemia-level-1"
    Then the alert of "rule-hypoglycaemia-level-1" shows the changes "raised,acknowledged"
    And the audit log names "nurse-ann@hospital.test" as the actor of "alert.acknowledged" on the alert of "rule-hypoglycaemia-level-1"

  @REQ-SEC-003
  Scenario Outline: The provider's groups decide what a signed-in person may do, whichever algorithm signs
    Given the suite runs with all services, signing in with the hospital's identity provider
    And "<who>" signs in with an <alg> token of the identity provider as a member of "<group>"
    When "<who>" lists the open alerts
    Then that is <outcome>

    Examples:
      | who     | alg   | group        | outcome                       |
      | raj     | RS256 | ward-nurses  | answered                      |
      | lee     | ES256 | quality-team | answered                      |
      | visitor | ES256 | guests       | refused as PERMISSION_DENIED  |

  @REQ-SEC-003
  Scenario Outline: A token that is not good is refused, saying why and never echoing it
    Given the suite runs with all services, signing in with the hospital's identity provider
    When a caller lists the open alerts with a token of "ann" that <fault>
    Then the call is refused as UNAUTHENTICATED for the reason "<reason>", and the token is not in the answer
    And the audit log records auth.denied for "ListAlerts" with reasons "<reason>" and no secret

    Examples:
      | fault                                          | reason                 |
      | expired 5 minutes ago                          | credential_expired     |
      | becomes valid in 5 minutes                     | token_not_yet_valid    |
      | is meant for another audience                  | token_wrong_audience   |
      | was issued by another issuer                   | token_wrong_issuer     |
      | is signed by a key the provider never published | token_unknown_key      |
      | is signed by a forgery of a published key      | token_bad_signature    |

  @REQ-SEC-003
  Scenario Outline: When the provider rotates its keys, tokens signed with the new key work without a restart
    Given the suite runs with all services, reading the identity provider's keys from its <source>
    When the identity provider publishes a new key "es-2"
    And "ann" signs in with a token signed by "es-2" as a member of "ward-nurses"
    Then within 15 seconds "ann" lists the open alerts

    Examples:
      | source   |
      | endpoint |
      | file     |

  @REQ-SEC-003
  Scenario: A service in a server of its own has the provider's tokens checked by the registry
    Given the suite runs with the services "registry,audit", signing in with the hospital's identity provider
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential
    And reading ingestion runs in a server of its own, with its own store and service credential and the suite as its peers
    When "raj" with a token of the identity provider as a member of "ward-nurses" lists the readings of patient "pt-1" on that server
    Then that is answered
    When "raj" with a token of the identity provider that expired 5 minutes ago lists the readings of patient "pt-1" on that server
    Then that is refused as UNAUTHENTICATED for the reason "credential_expired"

  @REQ-SEC-004
  Scenario: A Sentinel credential issued with an expiry stops working when it expires
    Given the suite runs with the services "registry,audit"
    When the admin issues "int-kim" the role "integrator" expiring in 3 seconds
    Then "int-kim" with the new credential can list devices
    And the credential of "int-kim" is listed with its expiry
    When 4 seconds pass
    Then "int-kim" listing devices is refused as UNAUTHENTICATED for the reason "credential_expired"

  @REQ-SEC-004
  Scenario: A credential cannot be issued already expired
    Given the suite runs with the services "registry,audit"
    When the admin issues "int-kim" the role "integrator" expiring in -1 seconds
    Then the call is refused as INVALID_ARGUMENT naming "expires_at"
