-- The presence log and visits partitioned by day (RANGE on the time column, Unix seconds, UTC days), so that
-- retention drops a whole day instead of deleting rows. The server creates each day's partition ahead
-- (partitions.rs); a DEFAULT partition takes any row no day partition holds, so a write never fails.
--
-- Keys carry the partition key and the future distribution column (Citus would distribute both tables by
-- location_id): (location_id, at, id) and (location_id, entered_at, id). A unique index on a partitioned table
-- must include the partition key, so the idempotency of a scan, (device, idempotency_key) across all days,
-- moves to scan_keys, a narrow unpartitioned table that the scan insert fills in the same statement.
--
-- Existing rows are copied into day partitions made for the days they cover, then the old tables dropped.

ALTER TABLE presence_events RENAME TO presence_events_unpartitioned;
ALTER TABLE presence_events_unpartitioned DROP CONSTRAINT presence_events_pkey;
ALTER TABLE presence_events_unpartitioned DROP CONSTRAINT presence_events_device_idempotency_key_key;
DROP INDEX presence_location_at, presence_citizen_at, presence_at, presence_travel_from, presence_travel_to;

-- Partitioned tables cannot have identity columns before PostgreSQL 17: ids come from a sequence.
CREATE SEQUENCE presence_event_ids;
CREATE TABLE presence_events (
    id BIGINT NOT NULL DEFAULT nextval('presence_event_ids'),
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
    travel_from TEXT,
    travel_to TEXT,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (location_id, at, id)
) PARTITION BY RANGE (at);
ALTER SEQUENCE presence_event_ids OWNED BY presence_events.id;
CREATE TABLE presence_events_default PARTITION OF presence_events DEFAULT;

-- One row per stored scan: (device, idempotency_key) makes a resent scan a replay on any day; the event it
-- stored is found by its full key. Kept as long as the events (the retention purge deletes by `at`).
CREATE TABLE scan_keys (
    device TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    location_id BIGINT NOT NULL,
    at BIGINT NOT NULL,
    event_id BIGINT NOT NULL,
    PRIMARY KEY (device, idempotency_key)
);

ALTER TABLE visits RENAME TO visits_unpartitioned;
ALTER TABLE visits_unpartitioned DROP CONSTRAINT visits_pkey;
DROP INDEX visits_location, visits_citizen;
CREATE SEQUENCE visit_ids;
CREATE TABLE visits (
    id BIGINT NOT NULL DEFAULT nextval('visit_ids'),
    location_id BIGINT NOT NULL,
    citizen BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    exited_at BIGINT,
    PRIMARY KEY (location_id, entered_at, id)
) PARTITION BY RANGE (entered_at);
ALTER SEQUENCE visit_ids OWNED BY visits.id;
CREATE TABLE visits_default PARTITION OF visits DEFAULT;

-- A day partition for each day the existing rows cover, named as partitions.rs names them.
DO $$
DECLARE
    t TEXT;
    d BIGINT;
BEGIN
    FOR t, d IN
        SELECT DISTINCT 'presence_events', at - at % 86400 FROM presence_events_unpartitioned
        UNION SELECT DISTINCT 'visits', entered_at - entered_at % 86400 FROM visits_unpartitioned
    LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%s) TO (%s)',
            t || '_p' || to_char(to_timestamp(d) AT TIME ZONE 'UTC', 'YYYYMMDD'), t, d, d + 86400);
    END LOOP;
END $$;

INSERT INTO presence_events (id, location_id, citizen_id, pass_id, direction, at, device, method, decision, reason,
    status, travel_from, travel_to, idempotency_key, request_hash, received_at)
SELECT id, location_id, citizen_id, pass_id, direction, at, device, method, decision, reason,
    status, travel_from, travel_to, idempotency_key, request_hash, received_at
FROM presence_events_unpartitioned;
INSERT INTO scan_keys (device, idempotency_key, location_id, at, event_id)
SELECT device, idempotency_key, location_id, at, id FROM presence_events_unpartitioned;
SELECT setval('presence_event_ids', COALESCE((SELECT max(id) FROM presence_events_unpartitioned), 0) + 1, false);
DROP TABLE presence_events_unpartitioned;

INSERT INTO visits (id, location_id, citizen, entered_at, exited_at)
SELECT id, location_id, citizen, entered_at, exited_at FROM visits_unpartitioned;
SELECT setval('visit_ids', COALESCE((SELECT max(id) FROM visits_unpartitioned), 0) + 1, false);
DROP TABLE visits_unpartitioned;

-- The primary keys serve reads by location and time; these serve the others, on every partition.
CREATE INDEX presence_citizen_at ON presence_events (citizen_id, at);
CREATE INDEX presence_at ON presence_events (at);
CREATE INDEX presence_travel_from ON presence_events (travel_from, at);
CREATE INDEX presence_travel_to ON presence_events (travel_to, at);
CREATE INDEX scan_keys_at ON scan_keys (at);
CREATE INDEX visits_location ON visits (location_id, entered_at, exited_at, citizen);
CREATE UNIQUE INDEX visits_citizen ON visits (citizen, entered_at, location_id);
