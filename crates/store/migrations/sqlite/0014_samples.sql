-- Samples, pools and results (issue 12). A sample is ordered for a person (by staff, for a confirmed F1 on the
-- rules' test days, or by a result: a re-sample, a PCR after a positive rapid test), collected, perhaps pooled,
-- and tested. Ids are the labels' numbers: a label (M-…, G-…) is written once its id is known, so it is NULL
-- only inside the transaction that inserts the row. `commune_code` is the person's registry commune when the
-- sample was ordered: every read and write checks the caller's jurisdiction against it.
CREATE TABLE pools (
    id INTEGER PRIMARY KEY,
    label TEXT UNIQUE,
    test_type TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE samples (
    id INTEGER PRIMARY KEY,
    label TEXT UNIQUE,
    citizen_id TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    reason TEXT NOT NULL,
    test_type TEXT NOT NULL,
    status TEXT NOT NULL,
    ordered_by TEXT NOT NULL,
    ordered_at BIGINT NOT NULL,
    -- The day an ordered sample is to be taken (an F1's test day); NULL: at once.
    due_on TEXT,
    collected_at BIGINT,
    collected_where TEXT,
    collected_by TEXT,
    pool_id BIGINT REFERENCES pools (id),
    -- The sample a re-sample or a confirming PCR follows.
    follows_sample_id BIGINT REFERENCES samples (id)
);
CREATE INDEX samples_citizen ON samples (citizen_id);
CREATE INDEX samples_pool ON samples (pool_id);
-- One result per sample and one per pool: the unique keys make a second application of a result a no-op, so
-- a result opens its case exactly once. A member's result derived from its pool names the pool's result.
CREATE TABLE results (
    id INTEGER PRIMARY KEY,
    sample_id BIGINT UNIQUE REFERENCES samples (id),
    pool_id BIGINT UNIQUE REFERENCES pools (id),
    result TEXT NOT NULL,
    tested_at BIGINT NOT NULL,
    lab TEXT NOT NULL,
    ct REAL,
    entered_by TEXT NOT NULL,
    entered_at BIGINT NOT NULL,
    source TEXT NOT NULL,
    from_result_id BIGINT REFERENCES results (id),
    -- The F0 case this result opened (or found open).
    case_id BIGINT REFERENCES cases (id),
    CHECK ((sample_id IS NULL) <> (pool_id IS NULL))
);
-- The references a deletion checks (a pool's member results, a re-sample's original, a result's case): partial,
-- so that the many rows without one cost nothing on insert.
CREATE INDEX results_from ON results (from_result_id) WHERE from_result_id IS NOT NULL;
CREATE INDEX results_case ON results (case_id) WHERE case_id IS NOT NULL;
CREATE INDEX samples_follows ON samples (follows_sample_id) WHERE follows_sample_id IS NOT NULL;
