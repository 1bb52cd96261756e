-- LoRaWAN frames seen: a frame counter is used once per session (counters restart on rejoin,
-- with a new session), so a second frame with the same key and other content is a replay.
CREATE TABLE lorawan_frames (
    dev_eui TEXT NOT NULL,
    session TEXT NOT NULL,
    f_cnt BIGINT NOT NULL,
    payload_digest TEXT NOT NULL,
    batch_id TEXT NOT NULL,
    PRIMARY KEY (dev_eui, session, f_cnt)
);
