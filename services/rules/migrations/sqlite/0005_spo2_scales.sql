-- Which NEWS2 SpO2 scale a clinician has put each patient on (absent: scale 1), by whom and why.
CREATE TABLE spo2_scales (
    patient TEXT PRIMARY KEY,
    scale   BIGINT NOT NULL,
    set_by  TEXT NOT NULL,
    set_at  BIGINT NOT NULL,
    reason  TEXT NOT NULL
);
