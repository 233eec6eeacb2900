-- Per-user behavioural features from canonical, sessionised events.
--
-- Input: a relation named `ev` (clean_events.sql, sessionised where needed) and `cat_map`
-- (category_map.sql). Events are rolled up per session first, and every per-user figure is a
-- sum over sessions; category counts ride along, one column per frequent category, so the
-- events are read once for all of it. Distinct active days come from a second, narrow pass
-- (a session may cross midnight). Session counts are INTEGER so that the few million session
-- rows stay in memory instead of spilling to disk. The store fills in the comment markers
-- from cat_map (idx i, name n):
--   category_counts      , count(*) FILTER (idx = i)::INTEGER AS cat_i, per session
--   category_sums        , sum(cat_i) AS cat_i, per user
--   category_diversity   how many frequent categories a user has, plus distinct tail ones
--   category_columns     , share of categorised events AS share_n, one per index
--   tail_join            the distinct tail categories per user (only when there is a tail)
-- The reference time $t_ref is the last event in the log (bound by the store), so features do
-- not depend on when the query runs. Ratios with an empty denominator are NULL, on purpose:
-- imputation is a visible preprocessing choice, not hidden here.
WITH sessions AS (
    SELECT
        user_id,
        session_id,
        count(*)::INTEGER AS n_events,
        min(ts) AS t_first,
        max(ts) AS t_last,
        count(*) FILTER (event_type = 'purchase')::INTEGER AS n_purchases,
        sum(amount) FILTER (event_type = 'purchase') AS revenue,
        count(*) FILTER (event_type = 'ad_impression')::INTEGER AS ad_impressions,
        count(*) FILTER (event_type = 'ad_click')::INTEGER AS ad_clicks,
        count(*) FILTER (event_type = 'add_to_cart')::INTEGER AS add_to_cart,
        count(device)::INTEGER AS with_device,
        count(*) FILTER (device IN ('mobile', 'phone', 'tablet', 'ios', 'android'))::INTEGER AS on_mobile,
        count(*) FILTER (hour(ts) >= 22 OR hour(ts) < 5)::INTEGER AS at_night,
        count(*) FILTER (dayofweek(ts) IN (0, 6))::INTEGER AS at_weekend,
        count(idx)::INTEGER AS categorised
        /*category_counts*/
    FROM ev LEFT JOIN cat_map USING (category)
    GROUP BY ALL
),
per_user AS (
    SELECT
        user_id,
        sum(n_events)::BIGINT AS n_events,
        -- elapsed seconds: date_diff would count calendar boundaries crossed, not time elapsed
        (epoch($t_ref) - epoch(max(t_last))) / 86400.0 AS recency_days,
        (epoch($t_ref) - epoch(min(t_first))) / 86400.0 AS tenure_days,
        count(*) AS n_sessions,
        avg((epoch(t_last) - epoch(t_first)) / 60.0) AS avg_session_minutes,
        avg((n_purchases > 0)::INT) AS session_conversion,
        sum(n_purchases)::BIGINT AS n_purchases,
        coalesce(sum(revenue), 0) AS revenue,
        sum(ad_impressions)::BIGINT AS ad_impressions,
        sum(ad_clicks)::BIGINT AS ad_clicks,
        sum(add_to_cart)::BIGINT AS add_to_cart,
        sum(on_mobile) / nullif(sum(with_device), 0) AS mobile_share,
        sum(at_night) / sum(n_events) AS night_share,
        sum(at_weekend) / sum(n_events) AS weekend_share,
        sum(categorised) AS categorised
        /*category_sums*/
    FROM sessions
    GROUP BY user_id
),
days AS (
    SELECT user_id, count(DISTINCT ts::DATE) AS active_days FROM ev GROUP BY user_id
)
SELECT
    u.user_id,
    u.recency_days,
    u.tenure_days,
    d.active_days,
    u.n_sessions,
    u.n_events,
    u.n_events / u.n_sessions AS events_per_session,
    u.avg_session_minutes,
    /*category_diversity*/ AS category_diversity,
    u.add_to_cart,
    u.add_to_cart / u.n_sessions AS cart_rate,
    u.n_purchases,
    u.revenue,
    CASE WHEN u.n_purchases > 0 THEN u.revenue / u.n_purchases END AS avg_order_value,
    u.session_conversion AS conversion_rate,
    u.ad_impressions,
    u.ad_clicks,
    CASE WHEN u.ad_impressions > 0 THEN u.ad_clicks / u.ad_impressions END AS ctr,
    u.mobile_share,
    u.night_share,
    u.weekend_share
    /*category_columns*/
FROM per_user u
JOIN days d USING (user_id)
/*tail_join*/
