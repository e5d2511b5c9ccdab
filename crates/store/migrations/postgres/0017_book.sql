-- The book of live passes (issue 14): every change to a pass or to what a holder's standing is read from (their
-- declarations and doses) appends the holder to `book_changes` in the same transaction, by trigger, so that no
-- writer can forget it. Each server's in-memory book follows this log by `seq` and reloads the holders named.
-- A sequence value is taken before commit, so a lower `seq` can become visible after a higher one: the book
-- re-reads the numbers it has not seen yet (gaps) for a while (see store/src/book.rs).
CREATE TABLE book_changes (
    seq BIGSERIAL PRIMARY KEY,
    citizen_id TEXT NOT NULL,
    at BIGINT NOT NULL DEFAULT (EXTRACT(EPOCH FROM now())::BIGINT)
);
-- Each server trims changes older than a day.
CREATE INDEX book_changes_at ON book_changes (at);
CREATE FUNCTION book_change_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO book_changes (citizen_id) SELECT citizen_id FROM changed WHERE citizen_id IS NOT NULL;
    RETURN NULL;
END $$;
CREATE TRIGGER book_pass_issued AFTER INSERT ON passes REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION book_change_new();
CREATE TRIGGER book_pass_changed AFTER UPDATE ON passes REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION book_change_new();
CREATE TRIGGER book_declared AFTER INSERT ON declaration_people REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION book_change_new();
CREATE TRIGGER book_dose_recorded AFTER INSERT ON doses REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION book_change_new();
CREATE TRIGGER book_dose_changed AFTER UPDATE ON doses REFERENCING NEW TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION book_change_new();
CREATE TRIGGER book_dose_removed AFTER DELETE ON doses REFERENCING OLD TABLE AS changed
    FOR EACH STATEMENT EXECUTE FUNCTION book_change_new();
