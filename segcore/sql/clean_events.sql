-- Canonical events: event types and devices trimmed and lower-cased, rows without a user or a
-- time left out. Categories stay raw here: user_categories.sql normalises their few distinct values.
--
-- Input: a relation named `events` with columns
--   user_id VARCHAR, ts TIMESTAMP, event_type VARCHAR, amount DOUBLE,
--   session_id (any type), category VARCHAR, device VARCHAR
-- (optional roles that were not mapped arrive as NULL columns).
-- Used as a view: DuckDB computes only the columns a later query reads.
SELECT
    user_id,
    ts,
    lower(trim(event_type)) AS event_type,
    amount,
    session_id,
    category,
    lower(trim(device)) AS device
FROM events
WHERE user_id IS NOT NULL AND ts IS NOT NULL
