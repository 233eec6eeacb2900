-- Per-user behavioural features from canonical, sessionised events.
--
-- Input: a relation named `ev` (clean_events.sql, sessionised where needed) and the
-- per-user category counts `user_categories` (user_categories.sql).
-- Events are first rolled up per user, session and calendar day: every per-user figure
-- is a sum over those rows, and distinct days and sessions are counted on a few million
-- rows instead of every event (COUNT DISTINCT over events costs more than all the rest).
-- The reference time is the last event in the log, so features do not depend on
-- when the query runs. Ratios with an empty denominator are NULL, on purpose:
-- imputation is a visible preprocessing choice, not hidden here.
WITH session_days AS (
    SELECT
        user_id,
        session_id,
        ts::DATE AS day,
        count(*) AS n_events,
        min(ts) AS t_first,
        max(ts) AS t_last,
        count(*) FILTER (event_type = 'purchase') AS n_purchases,
        sum(amount) FILTER (event_type = 'purchase') AS revenue,
        count(*) FILTER (event_type = 'ad_impression') AS ad_impressions,
        count(*) FILTER (event_type = 'ad_click') AS ad_clicks,
        count(*) FILTER (event_type = 'add_to_cart') AS add_to_cart,
        count(device) AS with_device,
        count(*) FILTER (device IN ('mobile', 'phone', 'tablet', 'ios', 'android')) AS on_mobile,
        count(*) FILTER (hour(ts) >= 22 OR hour(ts) < 5) AS at_night,
        count(*) FILTER (dayofweek(ts) IN (0, 6)) AS at_weekend
    FROM ev
    GROUP BY ALL
),
ref AS (SELECT max(t_last) AS t_ref FROM session_days),
sessions AS (
    SELECT user_id, session_id, (epoch(max(t_last)) - epoch(min(t_first))) / 60.0 AS minutes,
           sum(n_purchases) > 0 AS converted
    FROM session_days GROUP BY user_id, session_id
),
per_session AS (
    SELECT user_id, count(*) AS n_sessions, avg(minutes) AS avg_session_minutes,
           avg(converted::INT) AS session_conversion
    FROM sessions GROUP BY user_id
),
per_user AS (
    SELECT
        user_id,
        sum(n_events)::BIGINT AS n_events,
        -- elapsed seconds: date_diff would count calendar boundaries crossed, not time elapsed
        (epoch(any_value(t_ref)) - epoch(max(t_last))) / 86400.0 AS recency_days,
        (epoch(any_value(t_ref)) - epoch(min(t_first))) / 86400.0 AS tenure_days,
        count(DISTINCT day) AS active_days,
        sum(n_purchases)::BIGINT AS n_purchases,
        coalesce(sum(revenue), 0) AS revenue,
        sum(ad_impressions)::BIGINT AS ad_impressions,
        sum(ad_clicks)::BIGINT AS ad_clicks,
        sum(add_to_cart)::BIGINT AS add_to_cart,
        sum(on_mobile) / nullif(sum(with_device), 0) AS mobile_share,
        sum(at_night) / sum(n_events) AS night_share,
        sum(at_weekend) / sum(n_events) AS weekend_share
    FROM session_days, ref
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
    coalesce(c.category_diversity, 0) AS category_diversity,
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
FROM per_user u
JOIN per_session s USING (user_id)
LEFT JOIN (SELECT user_id, count(*) AS category_diversity FROM user_categories GROUP BY user_id) c USING (user_id)
