-- A scan's visit is opened or closed by the insert of its event, so that on SQLite a group of scans is one
-- statement, one round trip and one commit (issue 14). An admitted entry of a person with a citizen id opens a
-- visit; an admitted exit closes the person's latest visit still open at that place that began at most a day
-- before (86400 s, `MAX_OPEN_STAY_SECS` in crates/store/src/visits.rs, which a test holds equal). The rows of one
-- statement fire in order, so an exit closes an entry sent earlier in the same group. PostgreSQL does the same in
-- the scan statement's own CTEs.
CREATE TRIGGER presence_opens_visit AFTER INSERT ON presence_events
WHEN NEW.decision = 'admit' AND NEW.direction = 'in'
    AND NEW.citizen_id GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
BEGIN
    INSERT OR IGNORE INTO visits (location_id, citizen, entered_at, exited_at)
    VALUES (NEW.location_id, CAST(NEW.citizen_id AS INTEGER), NEW.at, NULL);
END;
-- `+v.location_id` keeps the planner on the person's index: at a busy checkpoint the place's index holds every
-- visit of the last day there.
CREATE TRIGGER presence_closes_visit AFTER INSERT ON presence_events
WHEN NEW.decision = 'admit' AND NEW.direction = 'out'
    AND NEW.citizen_id GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]'
BEGIN
    UPDATE visits SET exited_at = NEW.at WHERE id = (
        SELECT v.id FROM visits v WHERE v.citizen = CAST(NEW.citizen_id AS INTEGER) AND +v.location_id = NEW.location_id
        AND v.exited_at IS NULL AND v.entered_at <= NEW.at AND v.entered_at > NEW.at - 86400
        ORDER BY v.entered_at DESC LIMIT 1);
END;
