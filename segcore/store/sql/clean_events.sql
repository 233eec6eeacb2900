-- Canonical events: event types and devices trimmed and lower-cased, rows without a user or a
-- time left out. Categories stay raw here: category_map.sql normalises their few distinct values.
--
-- Input: a relation named `events` with columns
--   user_id VARCHAR, ts TIMESTAMP, event_type VARCHAR, amount DOUBLE, quantity DOUBLE,
--   unit_price DOUBLE, order_id VARCHAR, session_id (any type), category VARCHAR, device VARCHAR,
--   product VARCHAR, page VARCHAR, channel VARCHAR
-- (optional roles that were not mapped arrive as NULL columns).
-- Used as a view: DuckDB computes only the columns a later query reads.
-- The store fills in the markers:
--   event_type   an event log's type, lower(trim(column)) or the column as it is when each of its
--                distinct values already is its own trimmed, lower-case form (at 20M events, asking
--                the few distinct values took 0.1 s; normalising every event took 0.4-0.5 s); then
--                the log's own words translated to our kinds through the temporary table
--                `event_vocab` (raw, kind) where the user's vocabulary differs from ours.
--                A transaction log has no type: each row is a 'purchase', or a 'return' when its
--                amount or quantity is negative.
--   amount       the amount, or quantity x unit price where a log has only those; a return's is
--                negative, so that a customer's amounts add up to what they spent
--   vocab_join   LEFT JOIN event_vocab v ON v.raw = <the normalised type>, when translating
SELECT
    user_id,
    ts,
    /*event_type*/ AS event_type,
    /*amount*/ AS amount,
    quantity,
    order_id,
    session_id,
    category,
    /*device*/ AS device,
    product,
    page,
    channel
FROM events
/*vocab_join*/
WHERE user_id IS NOT NULL AND ts IS NOT NULL
