-- The map, commune risk levels and the public page (issue 10).

-- A unit's boundary over time (GeoJSON MultiPolygon text, WGS84), with its bounding box so that a map reads only
-- what it shows. A new import from a later date closes the earlier row (valid_to), like the units themselves.
CREATE TABLE boundaries (
    unit_code TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    geometry TEXT NOT NULL,
    min_lon DOUBLE PRECISION NOT NULL,
    min_lat DOUBLE PRECISION NOT NULL,
    max_lon DOUBLE PRECISION NOT NULL,
    max_lat DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (unit_code, valid_from)
);

-- Where a case was detected: in the community (what the risk rules count) or already in quarantine or isolation.
ALTER TABLE cases ADD COLUMN detected_in TEXT NOT NULL DEFAULT 'community';
-- The day a case counts for: its sample date, else the day it was recorded (Vietnam time), kept as a column so
-- that a week's counts per commune are one index range.
ALTER TABLE cases ADD COLUMN counted_on TEXT;
UPDATE cases SET counted_on = COALESCE(sample_date, to_char(to_timestamp(created_at + 25200) AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
CREATE INDEX cases_counted ON cases (counted_on, commune_code);

-- Official figures per unit: population, vaccination coverage, patients on oxygen, … `period` is '' for a standing
-- figure, or the ISO week (YYYY-Www) it describes.
CREATE TABLE unit_figures (
    unit_code TEXT NOT NULL,
    figure TEXT NOT NULL,
    period TEXT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    source TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (unit_code, figure, period)
);

-- The treatment-capacity checklist an official fills in per unit and ISO week; answers keyed by the rule file's
-- item ids (JSON object).
CREATE TABLE capacity_checklists (
    unit_code TEXT NOT NULL,
    week TEXT NOT NULL,
    answers TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    PRIMARY KEY (unit_code, week)
);

-- The steering committee's decisions: the levels that count. The signed PDF is uploaded separately.
CREATE TABLE risk_decisions (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number TEXT NOT NULL,
    decided_on TEXT NOT NULL,
    issued_by TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    province_code TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);
CREATE TABLE risk_decision_levels (
    decision_id BIGINT NOT NULL REFERENCES risk_decisions (id),
    unit_code TEXT NOT NULL,
    level BIGINT NOT NULL,
    PRIMARY KEY (decision_id, unit_code)
);
CREATE INDEX risk_decision_levels_unit ON risk_decision_levels (unit_code);
CREATE TABLE risk_decision_files (
    decision_id BIGINT PRIMARY KEY REFERENCES risk_decisions (id),
    file_name TEXT NOT NULL,
    body BYTEA NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at BIGINT NOT NULL
);

-- Exposure places a health officer published from a case's zones, until they expire. The public list names no
-- case; case_id stays here for the officer's own view and for withdrawing a publication.
CREATE TABLE exposure_places (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_id BIGINT NOT NULL,
    location_id BIGINT NOT NULL,
    from_at BIGINT NOT NULL,
    to_at BIGINT NOT NULL,
    published_by TEXT NOT NULL,
    published_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX exposure_places_expires ON exposure_places (expires_at);
CREATE INDEX exposure_places_case ON exposure_places (case_id);
