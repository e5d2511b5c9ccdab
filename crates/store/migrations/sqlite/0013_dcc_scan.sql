-- Whether a place accepts an EU Digital COVID Certificate (HC1) from a visitor with no registry record, set from
-- the kind's rule when the place is registered. Places registered before keep refusing certificates (0).
ALTER TABLE locations ADD COLUMN accepts_dcc BIGINT NOT NULL DEFAULT 0;
