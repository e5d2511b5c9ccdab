-- Nothing looks scans up by where the traveller came from or was going: the two indexes only cost every scan two
-- more index entries to write (a group commit of scans is CPU-bound on its index entries). The columns stay; a
-- query that needs them brings its own index, partial on the rows that have a journey.
DROP INDEX presence_travel_from;
DROP INDEX presence_travel_to;
