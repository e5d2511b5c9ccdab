-- SQLite opens and closes a scan's visit by triggers on its event (see the SQLite migration); PostgreSQL does it
-- in the scan statement's own CTEs (crates/store/src/presence_pg.rs).
SELECT 1;
