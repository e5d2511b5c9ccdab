-- Web sessions: a login token remembers the staff account behind it, or the resident who signed in with a
-- one-time code; a venue remembers the account that registered it.
ALTER TABLE api_tokens ADD COLUMN staff_id BIGINT;
ALTER TABLE api_tokens ADD COLUMN citizen_id TEXT;
ALTER TABLE locations ADD COLUMN owner TEXT NOT NULL DEFAULT '';
CREATE INDEX locations_owner ON locations (owner);
