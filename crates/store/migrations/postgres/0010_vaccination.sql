-- Vaccination records: one row per dose. The same person, product and date is one dose (unique), so a
-- re-import changes nothing. `citizen_id` (TEXT) and `date` (TEXT, ISO YYYY-MM-DD) keep these names and types
-- on both backends: other readers group doses by citizen. Coverage per commune is driven from the registry
-- (`residents_commune`) and reaches each person's doses through the unique key, citizen_id first.
CREATE TABLE doses (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    product TEXT NOT NULL,
    dose_number BIGINT NOT NULL,
    series_doses BIGINT NOT NULL,
    date TEXT NOT NULL,
    lot TEXT,
    -- The site: one of the system's locations, or a facility named as typed (with its unit when known).
    site_location_id BIGINT REFERENCES locations (id),
    site_name TEXT,
    site_unit TEXT,
    country TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    recorded_at BIGINT NOT NULL,
    UNIQUE (citizen_id, product, date)
);
-- The unique key's index, citizen_id first, serves per-person reads and `GROUP BY citizen_id` (a person has a
-- handful of doses); a second (citizen_id, date) index would only slow the bulk writes.
