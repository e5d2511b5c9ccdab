-- A declaration sent again with the same idempotency key by the same submitter (an answer lost to a dropped
-- connection, a 503 while the database was away, an offline queue synced twice) is a replay: it gets the
-- first one's answer, not a second declaration. `people` is that answer's people, as JSON (it names the people
-- and carries their passes, so it goes with the presence log's retention); `request_hash` tells a replay from a
-- key reused for another form.
CREATE TABLE declaration_keys (
    actor TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    declaration_id BIGINT NOT NULL,
    people TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (actor, idempotency_key)
);
CREATE INDEX declaration_keys_created ON declaration_keys (created_at);
