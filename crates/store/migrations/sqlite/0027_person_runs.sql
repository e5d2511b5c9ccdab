-- The presence log's person index leaves the scan's commit (issue 14). A B-tree index on (citizen_id, at) costs
-- each scan of a person a page of its own in the commit's write-ahead log: about one page a scan, which held
-- batches of scans to half of what the rest of the commit does. Instead the scan writer turns the log's newest
-- rows, every few thousand, into a sorted run (a table of its own, written in order: a page per ~150 entries),
-- and merges runs of one size into one of the next (crates/store/src/person_runs.rs). A person's events are
-- read from every run and from the rows not yet in one (the tail), which stays small.
DROP INDEX presence_citizen_at;
-- One row per run; its entries are in the table `person_run_<id>`. `level` 0 is a run made from the tail; a
-- merge of runs of level k makes one of level k + 1. `newest_at` lets the retention purge drop a whole run.
CREATE TABLE person_runs (
    id INTEGER PRIMARY KEY,
    level BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    newest_at BIGINT NOT NULL
);
-- Every event with an id up to `upto` has its entry in a run; the tail is the events after it.
CREATE TABLE person_index (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    upto BIGINT NOT NULL
);
-- The events already stored are the tail: the scan writer makes them a run after its first group.
INSERT INTO person_index (one, upto) VALUES (1, 0);
