-- Security review (issue 8).
-- Every message names the unit whose staff may read it (the home commune of the person it goes to, or the
-- unit it addresses); one-time codes are secret: never listed, and their text is blanked once sent.
ALTER TABLE outbox ADD COLUMN unit_code TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox ADD COLUMN secret BIGINT NOT NULL DEFAULT 0;
UPDATE outbox SET secret = 1, body = '' WHERE body LIKE 'kiemdich: ma xac nhan%';
UPDATE outbox SET unit_code = recipient WHERE channel = 'commune';
UPDATE outbox SET unit_code = COALESCE((SELECT r.commune_code FROM residents r WHERE r.citizen_id = outbox.recipient), '')
    WHERE channel = 'app';
UPDATE outbox SET unit_code = COALESCE((SELECT MIN(r.commune_code) FROM residents r WHERE r.phone = outbox.recipient), '')
    WHERE channel = 'sms';
CREATE INDEX outbox_unit ON outbox (unit_code, id);
CREATE INDEX outbox_created ON outbox (created_at);
-- Households, for family declarations by residents (the population file's optional eighth column).
ALTER TABLE residents ADD COLUMN household_id TEXT;
CREATE INDEX residents_household ON residents (household_id);
-- For a person found in the registry: their registry commune (whose officers may read the declaration) and
-- whether an officer of another commune declared on an attested identity document.
ALTER TABLE declaration_people ADD COLUMN registry_commune TEXT;
ALTER TABLE declaration_people ADD COLUMN attested BIGINT NOT NULL DEFAULT 0;
-- One zoning notice per person per case, however often "notify" is pressed.
CREATE TABLE zone_notices (
    case_id BIGINT NOT NULL,
    citizen_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    PRIMARY KEY (case_id, citizen_id)
);
CREATE INDEX zone_notices_at ON zone_notices (at);
CREATE INDEX tracing_runs_created ON tracing_runs (created_at);
CREATE INDEX otp_created ON otp_challenges (created_at);
-- A key stops signing when it is rotated out or retired (and its private half is deleted then); passes it
-- dates later are refused. Device sign-in makes a session whose parent is the device's token.
ALTER TABLE signing_keys ADD COLUMN signed_until BIGINT;
UPDATE signing_keys SET signed_until = created_at WHERE not_after IS NOT NULL;
ALTER TABLE api_tokens ADD COLUMN parent_id BIGINT;
