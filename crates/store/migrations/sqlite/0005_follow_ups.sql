-- Daily follow-up of people in isolation or quarantine: what the commune or health officer found that day,
-- and how (an SMS answer, a call for people without smartphones, a visit). One row per case and day.
CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL,
    day TEXT NOT NULL,
    outcome TEXT NOT NULL,
    channel TEXT NOT NULL,
    note TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (case_id, day)
);
-- In-app notices are outbox messages to a citizen id; residents read theirs.
CREATE INDEX outbox_recipient ON outbox (recipient, id);
