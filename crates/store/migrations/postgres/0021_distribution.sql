-- Keys ready for a distributed PostgreSQL (docs/scale.md, checked by crates/store/tests/distribution.rs): the
-- person-keyed hot tables carry citizen_id in their primary key, and no foreign key crosses distribution groups.
-- Look-ups by the old key keep a plain index. Pass ids, UVCIs and declaration refs are random 128-bit values
-- or issued once per certificate, unique by construction.
ALTER TABLE passes DROP CONSTRAINT passes_declaration_id_fkey;
ALTER TABLE passes DROP CONSTRAINT passes_pkey, ADD PRIMARY KEY (citizen_id, id);
CREATE INDEX passes_id ON passes (id);
ALTER TABLE doses DROP CONSTRAINT doses_pkey, ADD PRIMARY KEY (citizen_id, id);
CREATE INDEX doses_id ON doses (id);
ALTER TABLE dcc_issued DROP CONSTRAINT dcc_issued_pkey, ADD PRIMARY KEY (citizen_id, uvci);
CREATE INDEX dcc_issued_uvci ON dcc_issued (uvci);
ALTER TABLE health_updates DROP CONSTRAINT health_updates_pkey, ADD PRIMARY KEY (citizen_id, id);
CREATE INDEX health_updates_id ON health_updates (id);
ALTER TABLE declarations DROP CONSTRAINT declarations_ref_key;
CREATE INDEX declarations_ref ON declarations (ref);
