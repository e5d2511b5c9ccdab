-- Visits: one row per stay of a person at a location, the input of tracing. Admitted scans open and close them;
-- `kiemdich import visits` writes them whole. The citizen id is kept as its 12-digit number, so that a
-- national-scale log stays compact; (citizen, entered_at, location_id) makes a re-imported visit a no-op.
CREATE TABLE visits (
    id INTEGER PRIMARY KEY,
    location_id BIGINT NOT NULL,
    citizen BIGINT NOT NULL,
    entered_at BIGINT NOT NULL,
    exited_at BIGINT
);
CREATE INDEX visits_location ON visits (location_id, entered_at, exited_at, citizen);
CREATE UNIQUE INDEX visits_citizen ON visits (citizen, entered_at, location_id);
-- Cases: suspected, F0 (confirmed), F1 and F2, with their lifecycle; one active case per person.
CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    classification TEXT NOT NULL,
    state TEXT NOT NULL,
    active BIGINT NOT NULL,
    onset_date TEXT,
    sample_date TEXT,
    isolated_date TEXT,
    source TEXT NOT NULL,
    source_case_id BIGINT,
    vaccinated BIGINT NOT NULL,
    quarantine_until TEXT,
    rule_version TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE UNIQUE INDEX cases_one_active ON cases (citizen_id) WHERE active = 1;
CREATE INDEX cases_commune ON cases (commune_code);
-- The evidence that links a traced case to the case it was exposed to: the edges of transmission chains.
CREATE TABLE case_exposures (
    case_id BIGINT NOT NULL,
    source_case_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    from_at BIGINT NOT NULL,
    to_at BIGINT NOT NULL,
    minutes BIGINT NOT NULL
);
CREATE INDEX case_exposures_case ON case_exposures (case_id);
CREATE INDEX case_exposures_source ON case_exposures (source_case_id);
-- Each tracing result as computed, with the rule version it used.
CREATE TABLE tracing_runs (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL,
    rule_version TEXT NOT NULL,
    result TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT NOT NULL
);
