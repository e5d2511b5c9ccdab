-- The book of live passes (issue 14): every change to a pass or to what a holder's standing is read from (their
-- declarations and doses) appends the holder to `book_changes` in the same transaction, by trigger, so that no
-- writer can forget it. Each server's in-memory book follows this log by `seq` and reloads the holders named.
CREATE TABLE book_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    citizen_id TEXT NOT NULL,
    at BIGINT NOT NULL DEFAULT (CAST(strftime('%s', 'now') AS INTEGER))
);
-- Each server trims changes older than a day.
CREATE INDEX book_changes_at ON book_changes (at);
CREATE TRIGGER book_pass_issued AFTER INSERT ON passes
BEGIN INSERT INTO book_changes (citizen_id) VALUES (NEW.citizen_id); END;
CREATE TRIGGER book_pass_changed AFTER UPDATE ON passes
BEGIN INSERT INTO book_changes (citizen_id) VALUES (NEW.citizen_id); END;
CREATE TRIGGER book_declared AFTER INSERT ON declaration_people WHEN NEW.citizen_id IS NOT NULL
BEGIN INSERT INTO book_changes (citizen_id) VALUES (NEW.citizen_id); END;
CREATE TRIGGER book_dose_recorded AFTER INSERT ON doses
BEGIN INSERT INTO book_changes (citizen_id) VALUES (NEW.citizen_id); END;
CREATE TRIGGER book_dose_changed AFTER UPDATE ON doses
BEGIN INSERT INTO book_changes (citizen_id) VALUES (NEW.citizen_id); END;
CREATE TRIGGER book_dose_removed AFTER DELETE ON doses
BEGIN INSERT INTO book_changes (citizen_id) VALUES (OLD.citizen_id); END;
