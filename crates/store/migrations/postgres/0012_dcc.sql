-- The EU Digital COVID Certificate (HC1) in service. Certificates are stored as base64 DER text and kids as
-- base64 (8 bytes), the same on both backends; times are Unix seconds.
-- The deployment's document signers (DSC): the private key stays a 0600 file under the data dir's keys/
-- (`key_file`, its name there); the newest active one whose key file is present signs. `csca` is the country
-- signing CA's certificate given at install, published with the trust list.
CREATE TABLE dcc_dscs (
    kid TEXT PRIMARY KEY,
    certificate TEXT NOT NULL UNIQUE,
    key_file TEXT NOT NULL,
    subject TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    -- Comma-separated usages (vaccination, test, recovery); empty = valid for all.
    usages TEXT NOT NULL,
    csca TEXT,
    installed_at BIGINT NOT NULL,
    active BIGINT NOT NULL
);
-- Foreign DSCs imported from trust lists: verify-only. A kid may name more than one certificate.
CREATE TABLE dcc_trust (
    kid TEXT NOT NULL,
    certificate TEXT NOT NULL,
    source TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    PRIMARY KEY (kid, certificate)
);
-- Certificates issued: the same one is served again while the person's doses are unchanged and it is not near
-- expiry, so its UVCI is stable (and revocable later). `doses_hash` is SHA-256 (hex) of the doses it was made
-- from; `payload_hash` of the HC1 string.
CREATE TABLE dcc_issued (
    uvci TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    doses_hash TEXT NOT NULL,
    hc1 TEXT NOT NULL,
    payload_hash TEXT NOT NULL,
    dsc_kid TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX dcc_issued_citizen ON dcc_issued (citizen_id, issued_at);
