-- Proximity tracing (GAEN diagnosis keys). A verification code (stored hashed) lets one confirmed case's phone
-- upload its keys once: it carries the case only until it is used (the row is deleted in the upload's
-- transaction) or expires (deleted by the retention purge). `window_start` is the first ENIntervalNumber of the
-- case's infectious window; `unit_code` the case's commune, for the daily counts.
CREATE TABLE proximity_codes (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code_hash TEXT NOT NULL UNIQUE,
    case_id BIGINT NOT NULL,
    unit_code TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX proximity_codes_expiry ON proximity_codes (expires_at);
-- Uploaded Temporary Exposure Keys: no case, no person, no code. `key_hex` the 16 bytes in hex; `batch_id` the
-- export batch that published the key (NULL until the next batch is cut). Deleted 14 days (the rules) after
-- their interval ends.
CREATE TABLE proximity_keys (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key_hex TEXT NOT NULL,
    rolling_start BIGINT NOT NULL,
    rolling_period BIGINT NOT NULL,
    risk_level BIGINT NOT NULL,
    uploaded_at BIGINT NOT NULL,
    batch_id BIGINT
);
CREATE INDEX proximity_keys_batch ON proximity_keys (batch_id);
CREATE INDEX proximity_keys_start ON proximity_keys (rolling_start);
-- Signed export batches (the zip every GAEN client reads), for the upload times [start_at, end_at).
CREATE TABLE proximity_exports (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    start_at BIGINT NOT NULL,
    end_at BIGINT NOT NULL,
    key_count BIGINT NOT NULL,
    body BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
-- Codes issued, uploads and keys accepted per unit (the case's commune) and Vietnam day: counts only.
CREATE TABLE proximity_counts (
    unit_code TEXT NOT NULL,
    day TEXT NOT NULL,
    codes_issued BIGINT NOT NULL,
    uploads BIGINT NOT NULL,
    keys_uploaded BIGINT NOT NULL,
    PRIMARY KEY (unit_code, day)
);
