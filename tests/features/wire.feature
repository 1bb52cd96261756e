Feature: Strict at the wire
  A gateway with a bug or an attacker may send bytes that are not a request. What reaches a
  service is exactly one well-formed request of the method's type, or the sender is told, with a
  status gRPC clients do not retry, what is wrong — never INTERNAL, which blames the server, and
  never half a request taken as a whole one. Nothing of a refused request is stored.

  Background:
    Given the suite runs with all services
    And device "cgm-1" is bound to patient "pt-1" and holds a device credential

  @REQ-SEC-005
  Scenario Outline: A request that cannot be read is refused as INVALID_ARGUMENT, and nothing of it is stored
    When device "cgm-1" sends Ingest a request <malformation>
    Then the answer is INVALID_ARGUMENT saying "<says>"
    And device "cgm-1" has 0 stored readings

    Examples:
      | malformation                                      | says                         |
      | whose message has a field of the wrong wire type  | cannot be decoded            |
      | whose message is cut short                        | ends inside a message        |
      | whose string field is not UTF-8                   | cannot be decoded            |
      | flagged compressed without a grpc-encoding        | names no grpc-encoding       |
      | with two messages                                 | exactly one request message  |
      | with no message                                   | exactly one request message  |
      | whose reading's time has 2000000000 nanos         | readings[0].observed_at      |
      | whose reading's time is in the year 10000         | readings[0].observed_at      |

  @REQ-SEC-005
  Scenario Outline: A request in another encoding, or not gRPC at all, is refused as a client expects
    When device "cgm-1" sends Ingest a well-formed request as "<content type>"
    Then the answer is HTTP <http> with gRPC status <code>

    Examples:
      | content type           | http | code             |
      | application/grpc       | 200  | OK               |
      | application/grpc+proto | 200  | OK               |
      | application/grpc+json  | 200  | INVALID_ARGUMENT |
      | application/json       | 415  | INVALID_ARGUMENT |
