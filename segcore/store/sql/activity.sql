-- Per user and day of activity: what the KPIs over time add up (Store.activity_by_segment).
--
-- Input: `ev` (clean_events.sql, sessionised where needed), as for user_features.sql and
-- transaction_features.sql. A day is the calendar day of an event's time. Each column adds up so
-- that summing a user's days gives the per-user features: purchases and revenue as the feature SQL
-- counts them (an event log: purchase events and their amounts; a transaction log: orders, by order
-- id or time, on the day they were placed, and every row's amount, returns subtracted), and the
-- value of purchases alone for the average order value. A session is counted on each day it has
-- events (one crossing midnight counts on both), and converts on a day it has a purchase. A
-- transaction log has no sessions: they are NULL; an order whose lines fall on two days counts on
-- each (an order's lines share its time in the logs seen). The store fills in the markers:
--   session_key   session_id (of the type the log gives it) for an event log, NULL for a transaction log
--   purchases     count(*) FILTER (event_type = 'purchase') for an event log (a purchase event is an
--                 order); the distinct coalesce(order_id, ts) of its purchase rows for a transaction log
--   revenue       the filter of the amounts that add up to revenue: event_type = 'purchase' for an
--                 event log, every row (returns negative) for a transaction log
WITH per_session AS (
    SELECT
        user_id,
        ts::DATE AS day,
        /*session_key*/ AS session_key,
        count(*) AS n_events,
        /*purchases*/ AS n_purchases,
        coalesce(sum(amount) FILTER (/*revenue*/), 0) AS revenue,
        coalesce(sum(amount) FILTER (event_type = 'purchase'), 0) AS order_value,
        count(*) FILTER (event_type = 'ad_impression') AS ad_impressions,
        count(*) FILTER (event_type = 'ad_click') AS ad_clicks
    FROM ev
    GROUP BY user_id, day, session_key
)
SELECT
    user_id,
    day,
    sum(n_events)::BIGINT AS n_events,
    count(session_key)::BIGINT AS sessions,
    (count(session_key) FILTER (n_purchases > 0))::BIGINT AS converting_sessions,
    sum(n_purchases)::BIGINT AS n_purchases,
    sum(revenue) AS revenue,
    sum(order_value) AS order_value,
    sum(ad_impressions)::BIGINT AS ad_impressions,
    sum(ad_clicks)::BIGINT AS ad_clicks
FROM per_session
GROUP BY user_id, day
