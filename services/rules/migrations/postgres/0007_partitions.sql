-- Rule evaluation partitioned by patient: each of 16 partitions is evaluated by the one replica
-- holding its lease (owner, until expires_at, µs). `fence` grows with every new holder: a
-- replica commits evaluation results only while the row still names it with the fence it took,
-- so one that lost its lease cannot commit. `position` is how far in the reading log the
-- partition has been evaluated (carried over from the single cursor before partitioning).
CREATE TABLE rule_partitions (
    part       BIGINT PRIMARY KEY,
    owner      TEXT NOT NULL DEFAULT '',
    fence      BIGINT NOT NULL DEFAULT 0,
    expires_at BIGINT NOT NULL DEFAULT 0,
    position   BIGINT NOT NULL DEFAULT 0
);

INSERT INTO rule_partitions (part, position)
SELECT p, COALESCE((SELECT position FROM evaluator_cursor WHERE name = 'readings'), 0)
FROM generate_series(0, 15) AS p;

-- The replicas alive (seen within a lease period), to share the partitions evenly.
CREATE TABLE rule_replicas (
    id      TEXT PRIMARY KEY,
    seen_at BIGINT NOT NULL
);
