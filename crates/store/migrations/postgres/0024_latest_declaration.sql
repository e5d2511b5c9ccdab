-- A person's standing is their latest declaration: the last of their rows by declaration id (the pass book, a full
-- pass check). With the id and the row within it in the index, that is one step back from the end of the person's
-- range. With the citizen alone indexed, PostgreSQL walked the whole table backwards by id, filtering (8,000 rows a
-- look-up at 40,000 declarations: the pass book's reloads took most of the database's time under a declaration
-- load), or hashed the whole table.
CREATE INDEX declaration_people_latest ON declaration_people (citizen_id, declaration_id, idx);
DROP INDEX declaration_people_citizen;
