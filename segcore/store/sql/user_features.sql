-- Per-user behavioural features from canonical, sessionised events.
--
-- Input: a relation named `ev` (clean_events.sql over an event log, sessionised where needed; event
-- types already translated to our kinds: purchase, add_to_cart, product_view, ad_impression, ad_click)
-- and `cat_map`
-- (category_map.sql). Plain GROUP BYs over the events: one per user for every count, sum and
-- share (category counts included, one column per frequent category, and active days where the
-- log is short enough), a narrow one per session for session length and conversion, and for a
-- long log one for distinct active days. Measured at 20M events: rolling the wide figures up per
-- session first spills millions of wide rows to disk, and a COUNT DISTINCT beside the other
-- aggregates makes DuckDB buffer every event. The store fills in the comment markers (idx i and
-- name n from cat_map):
--   category_counts      , count(*) FILTER (idx = i) AS cat_i, per user
--   category_diversity   how many frequent categories a user has, plus distinct tail ones
--   category_columns     , share of categorised events AS share_n, one per index
--   type_counts          , count(*) FILTER (event_type = $type_j) AS type_j, per user, for the log's most
--                        frequent event types that are none of our kinds (bound: they are the log's words)
--   type_columns         , u.type_j / u.n_events AS type_share_<name>
--   tail_join            the distinct tail categories per user (only when there is a tail)
--   day_bits             , the days a user was active, as bits of 64-day words counted from
--                        $first_day (bit_or(...) FILTER (...) AS day_word_w), when the log spans
--                        few enough days. At 20M events over 183 days, the three words added
--                        0.4 s to this pass; the `days` pass, used otherwise, took 1.1 s
--   active_days          the words' bits counted, or d.active_days from the `days` pass
--   days_join            JOIN days d USING (user_id) when the `days` pass is used
-- The reference time $t_ref is the last event in the log (bound by the store), so features do
-- not depend on when the query runs. Ratios with an empty denominator are NULL, on purpose:
-- imputation is a visible preprocessing choice, not hidden here.
WITH per_user AS (
    SELECT
        user_id,
        count(*) AS n_events,
        -- elapsed seconds: date_diff would count calendar boundaries crossed, not time elapsed
        (epoch($t_ref) - epoch(max(ts))) / 86400.0 AS recency_days,
        (epoch($t_ref) - epoch(min(ts))) / 86400.0 AS tenure_days,
        count(*) FILTER (event_type = 'purchase') AS n_purchases,
        coalesce(sum(amount) FILTER (event_type = 'purchase'), 0) AS revenue,
        count(*) FILTER (event_type = 'ad_impression') AS ad_impressions,
        count(*) FILTER (event_type = 'ad_click') AS ad_clicks,
        count(*) FILTER (event_type = 'add_to_cart') AS add_to_cart,
        count(*) FILTER (event_type = 'product_view') AS product_views,
        count(*) FILTER (device IN ('mobile', 'phone', 'tablet', 'ios', 'android')) / nullif(count(device), 0)
            AS mobile_share,
        count(*) FILTER (hour(ts) >= 22 OR hour(ts) < 5) / count(*) AS night_share,
        count(*) FILTER (dayofweek(ts) IN (0, 6)) / count(*) AS weekend_share,
        count(idx) AS categorised
        /*category_counts*/
        /*type_counts*/
        /*day_bits*/
    FROM ev LEFT JOIN cat_map USING (category)
    GROUP BY user_id
),
sessions AS (
    SELECT user_id, (epoch(max(ts)) - epoch(min(ts))) / 60.0 AS minutes,
           bool_or(event_type = 'purchase') AS converted
    FROM ev GROUP BY user_id, session_id
),
days AS (
    SELECT user_id, count(*) AS active_days FROM (SELECT DISTINCT user_id, ts::DATE FROM ev) GROUP BY user_id
),
per_session AS (
    SELECT user_id, count(*) AS n_sessions, avg(minutes) AS avg_session_minutes,
           avg(converted::INT) AS session_conversion
    FROM sessions GROUP BY user_id
)
SELECT
    u.user_id,
    u.recency_days,
    u.tenure_days,
    /*active_days*/ AS active_days,
    s.n_sessions,
    u.n_events,
    u.n_events / s.n_sessions AS events_per_session,
    s.avg_session_minutes,
    /*category_diversity*/ AS category_diversity,
    u.product_views,
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
    /*category_columns*/
    /*type_columns*/
FROM per_user u
JOIN per_session s USING (user_id)
/*days_join*/
/*tail_join*/
