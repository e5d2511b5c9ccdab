-- Locations (checkpoints and venues), presence events from scans, and tokens bound to one location.
CREATE TABLE locations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    address TEXT NOT NULL,
    lat DOUBLE PRECISION NOT NULL,
    lon DOUBLE PRECISION NOT NULL,
    operator_org TEXT NOT NULL,
    dwell_minutes BIGINT NOT NULL,
    admits TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX locations_commune ON locations (commune_code);
ALTER TABLE api_tokens ADD COLUMN location_id BIGINT;
-- One row per scan. (device, idempotency_key) makes a resent scan a replay, never a second row.
CREATE TABLE presence_events (
    id INTEGER PRIMARY KEY,
    location_id BIGINT NOT NULL REFERENCES locations (id),
    citizen_id TEXT,
    pass_id TEXT,
    direction TEXT NOT NULL,
    at BIGINT NOT NULL,
    device TEXT NOT NULL,
    method TEXT NOT NULL,
    decision TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT,
    -- The declared journey of a person scanned at a checkpoint: the units they left and are going to.
    travel_from TEXT,
    travel_to TEXT,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    UNIQUE (device, idempotency_key)
);
CREATE INDEX presence_location_at ON presence_events (location_id, at);
CREATE INDEX presence_citizen_at ON presence_events (citizen_id, at);
CREATE INDEX presence_at ON presence_events (at);
CREATE INDEX presence_travel_from ON presence_events (travel_from, at);
CREATE INDEX presence_travel_to ON presence_events (travel_to, at);
