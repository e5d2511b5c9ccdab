-- Foundation: units, registry, staff, keys, declarations, passes, one-time codes, outbox, audit.
-- Times are Unix seconds (BIGINT) and dates ISO text, identical on both backends.
CREATE TABLE units (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT,
    valid_from TEXT,
    valid_to TEXT
);
CREATE TABLE residents (
    citizen_id TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    date_of_birth TEXT NOT NULL,
    sex TEXT NOT NULL,
    commune_code TEXT NOT NULL,
    address TEXT NOT NULL,
    phone TEXT
);
CREATE INDEX residents_commune ON residents (commune_code);
CREATE TABLE staff (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE api_tokens (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT
);
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_key TEXT NOT NULL,
    not_before BIGINT NOT NULL,
    not_after BIGINT,
    created_at BIGINT NOT NULL
);
CREATE TABLE declarations (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ref TEXT NOT NULL UNIQUE,
    submitted_at BIGINT NOT NULL,
    submitter TEXT NOT NULL,
    consent BOOLEAN NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE declaration_people (
    declaration_id BIGINT NOT NULL REFERENCES declarations (id),
    idx BIGINT NOT NULL,
    citizen_id TEXT,
    commune_code TEXT NOT NULL,
    identity_check TEXT NOT NULL,
    mismatched_fields TEXT NOT NULL,
    status TEXT NOT NULL,
    pass_id TEXT,
    departure_unit TEXT,
    destination_unit TEXT,
    PRIMARY KEY (declaration_id, idx)
);
CREATE INDEX declaration_people_citizen ON declaration_people (citizen_id);
CREATE TABLE passes (
    id TEXT PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    declaration_id BIGINT NOT NULL REFERENCES declarations (id),
    kid TEXT NOT NULL,
    status TEXT NOT NULL,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    token TEXT NOT NULL,
    revoked_at BIGINT,
    revoke_reason TEXT
);
CREATE INDEX passes_citizen ON passes (citizen_id, expires_at);
CREATE TABLE revocations (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pass_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    at BIGINT NOT NULL
);
CREATE TABLE otp_challenges (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX otp_citizen ON otp_challenges (citizen_id, created_at);
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE TABLE audit_log (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX audit_subject ON audit_log (subject, at);
