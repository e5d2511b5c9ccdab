-- The distribution plan (docs/scale.md) concerns PostgreSQL only; the embedded database keeps its keys.
SELECT 1;
