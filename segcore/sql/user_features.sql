-- Per-user behavioural features from a canonical event log.
--
-- Input: a relation named `events` with columns
--   user_id VARCHAR, ts TIMESTAMP, event_type VARCHAR, amount DOUBLE,
--   session_id VARCHAR, category VARCHAR, device VARCHAR
-- (optional roles that were not mapped arrive as NULL columns).
-- Sessions missing an id are cut at 30 minutes of inactivity.
-- The reference time is the last event in the log, so features do not depend on
-- when the query runs. Ratios with an empty denominator are NULL, on purpose:
-- imputation is a visible preprocessing choice, not hidden here.
WITH base AS (
    SELECT
        user_id,
        ts,
        lower(trim(event_type)) AS event_type,
        amount,
        session_id,
        lower(regexp_replace(trim(category), '[^A-Za-z0-9]+', '_', 'g')) AS category,
        lower(trim(device)) AS device,
        CASE WHEN session_id IS NULL THEN
            coalesce(epoch(ts) - epoch(lag(ts) OVER (PARTITION BY user_id ORDER BY ts)) > 1800, true)
        END AS new_session
    FROM events
    WHERE user_id IS NOT NULL AND ts IS NOT NULL
),
ev AS (
    SELECT
        * EXCLUDE (session_id, new_session),
        coalesce(session_id,
                 user_id || '#' || sum(new_session::INT) OVER (PARTITION BY user_id ORDER BY ts
                                                                ROWS UNBOUNDED PRECEDING)) AS session_id
    FROM base
),
ref AS (SELECT max(ts) AS t_ref FROM ev),
sessions AS (
    SELECT user_id, session_id, (epoch(max(ts)) - epoch(min(ts))) / 60.0 AS minutes,
           bool_or(event_type = 'purchase') AS converted
    FROM ev GROUP BY user_id, session_id
),
per_session AS (
    SELECT user_id, count(*) AS n_sessions, avg(minutes) AS avg_session_minutes,
           avg(converted::INT) AS session_conversion
    FROM sessions GROUP BY user_id
),
per_user AS (
    SELECT
        user_id,
        count(*) AS n_events,
        -- elapsed seconds: date_diff would count calendar boundaries crossed, not time elapsed
        (epoch(any_value(t_ref)) - epoch(max(ts))) / 86400.0 AS recency_days,
        (epoch(any_value(t_ref)) - epoch(min(ts))) / 86400.0 AS tenure_days,
        count(DISTINCT ts::DATE) AS active_days,
        count(*) FILTER (event_type = 'purchase') AS n_purchases,
        coalesce(sum(amount) FILTER (event_type = 'purchase'), 0) AS revenue,
        count(*) FILTER (event_type = 'ad_impression') AS ad_impressions,
        count(*) FILTER (event_type = 'ad_click') AS ad_clicks,
        count(*) FILTER (event_type = 'add_to_cart') AS add_to_cart,
        count(DISTINCT category) AS category_diversity,
        avg(CASE WHEN device IS NULL THEN NULL WHEN device IN ('mobile', 'phone', 'tablet', 'ios', 'android') THEN 1 ELSE 0 END) AS mobile_share,
        avg(CASE WHEN hour(ts) >= 22 OR hour(ts) < 5 THEN 1 ELSE 0 END) AS night_share,
        avg(CASE WHEN dayofweek(ts) IN (0, 6) THEN 1 ELSE 0 END) AS weekend_share
    FROM ev, ref
    GROUP BY user_id
)
SELECT
    u.user_id,
    u.recency_days,
    u.tenure_days,
    u.active_days,
    s.n_sessions,
    u.n_events,
    u.n_events / s.n_sessions AS events_per_session,
    s.avg_session_minutes,
    u.category_diversity,
    u.add_to_cart,
    u.add_to_cart / s.n_sessions AS cart_rate,
    u.n_purchases,
    u.revenue,
    CASE WHEN u.n_purchases > 0 THEN u.revenue / u.n_purchases END AS avg_order_value,
    s.session_conversion AS conversion_rate,
    u.ad_impressions,
    u.ad_clicks,
    CASE WHEN u.ad_impressions > 0 THEN u.ad_clicks / u.ad_impressions END AS ctr,
    u.mobile_share,
    u.night_share,
    u.weekend_share
FROM per_user u JOIN per_session s USING (user_id)
ORDER BY u.user_id
