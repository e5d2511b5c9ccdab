-- Several servers on one database (issue 14, part 5).
-- A periodic job's latest slot (e.g. the hour, as seconds since the epoch divided by the job's period): the
-- server that claims a slot holds it until `held_until` (seconds); `done` is 1 once its run finished. A slot whose
-- holder died before finishing is claimed again by another server after `held_until`.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    slot BIGINT NOT NULL,
    holder TEXT NOT NULL,
    held_until BIGINT NOT NULL,
    done BIGINT NOT NULL
);
-- Throttle counts shared by every server: failures of a key (an account, a citizen id) with the time until
-- which it must wait, and counts over fixed windows (per network address, per deployment). Times in
-- milliseconds since the epoch. Rows of keys idle for a day are deleted by the retention purge.
CREATE TABLE throttle_counts (
    name TEXT PRIMARY KEY,
    hits BIGINT NOT NULL,
    window_start BIGINT NOT NULL,
    wait_until BIGINT NOT NULL
);
CREATE INDEX throttle_counts_start ON throttle_counts (window_start);
-- Private signing keys (pass Ed25519 keys `pass:<kid>`, HC1 document signer keys `dcc:<key file>`, the GAEN
-- export key `gaen-export`), sealed with ChaCha20-Poly1305 under the key-encryption key each server is
-- configured with (KIEMDICH_KEK), the name as associated data: `v1:` and base64 of nonce, ciphertext and tag.
-- Every server reads them from here, so a rotation on one is used by all.
CREATE TABLE sealed_keys (
    name TEXT PRIMARY KEY,
    sealed TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
