-- The movements report (an officer's arrivals into and departures from a unit, newest first) looks scans up by
-- where the traveller was going or came from. Migration 0025 dropped the two full indexes that did this, which
-- every scan paid for; these are partial, paid for only by the scans that carry a journey (a checkpoint's).
CREATE INDEX presence_arrivals ON presence_events (travel_to, at) WHERE travel_to IS NOT NULL;
CREATE INDEX presence_departures ON presence_events (travel_from, at) WHERE travel_from IS NOT NULL;
