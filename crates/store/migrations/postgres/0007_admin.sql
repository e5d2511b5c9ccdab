-- Administrators (issue 9).
-- A disabled account cannot sign in, and disabling it revoked its sessions; enabling it again clears this.
ALTER TABLE staff ADD COLUMN disabled_at BIGINT;
-- Sessions of an account (revoked together when it is disabled or its password reset) and of a device token
-- (revoked with it).
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);
CREATE INDEX api_tokens_parent ON api_tokens (parent_id);
