-- SQLite moves the presence log's person index into sorted runs (sqlite/0027_person_runs.sql). PostgreSQL logs an
-- index entry, not its page, and keeps `presence_citizen_at` on each day's partition. Nothing to change here.
SELECT 1;
