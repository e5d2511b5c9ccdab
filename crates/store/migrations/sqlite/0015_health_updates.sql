-- Daily health updates (NCOVI's job): a temperature (tenths of a degree), an SpO2 reading, symptoms (codes,
-- comma-separated), a note; posted by the person or entered by an officer (`entered_by` names the actor).
-- `urgent` when the rules' warning signs showed; `commune_code` is the person's registry commune (whose staff
-- follow them up) and `day` the Vietnam date of `at`.
CREATE TABLE health_updates (
    id INTEGER PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    day TEXT NOT NULL,
    temperature_tenths BIGINT,
    spo2 BIGINT,
    symptoms TEXT NOT NULL,
    note TEXT,
    urgent BIGINT NOT NULL,
    entered_by TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX health_updates_citizen ON health_updates (citizen_id, at);
CREATE INDEX health_updates_urgent ON health_updates (commune_code, day, urgent);
