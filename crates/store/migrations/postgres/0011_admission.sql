-- A location's vaccination requirement, beside the statuses it admits: JSON such as
-- {"min_doses": 2, "min_days_since_last": 14}, or NULL when the place requires none (the default of every kind).
ALTER TABLE locations ADD COLUMN vaccination_requirement TEXT;
