-- Per-customer features of a transaction log: one row per order or order line, no event types.
--
-- Input: `ev` (clean_events.sql over a transaction log: event_type is 'purchase', or 'return' for
-- a row with a negative amount or quantity, whose amount is then negative) and `cat_map`.
-- An order is the rows of one customer with one order id or, where the log has none, at one time
-- (in a log of dates only: on one day). Revenue adds up every row's amount, returns subtracted, so
-- it equals the sum of the customer's order values; the average order value is over purchases.
-- The reference time $t_ref is the last transaction in the log. Ratios with an empty denominator
-- and intervals of customers with too few orders are NULL, on purpose: imputation is a visible
-- preprocessing choice, not hidden here. The store fills in the category markers as for
-- user_features.sql.
WITH orders AS (
    SELECT user_id, coalesce(CAST(order_id AS VARCHAR), CAST(ts AS VARCHAR)) AS order_key,
           min(ts) AS ts, sum(amount) AS value, sum(quantity) AS items
    FROM ev WHERE event_type = 'purchase'
    GROUP BY user_id, order_key
),
gaps AS (
    SELECT user_id, (epoch(ts) - epoch(lag(ts) OVER (PARTITION BY user_id ORDER BY ts))) / 86400.0 AS gap
    FROM orders
),
rhythm AS (
    -- the mean gap needs two orders; its coefficient of variation (0 = clockwork) needs three
    SELECT user_id, avg(gap) AS purchase_interval_days,
           CASE WHEN count(gap) >= 2 AND avg(gap) > 0 THEN stddev_samp(gap) / avg(gap) END AS interval_regularity
    FROM gaps GROUP BY user_id
),
per_order AS (
    SELECT user_id, count(*) AS n_purchases, sum(value) AS order_value, sum(items) AS items,
           min(ts) AS first_order, max(ts) AS last_order
    FROM orders GROUP BY user_id
),
per_user AS (
    SELECT
        user_id,
        count(*) FILTER (event_type = 'return') AS n_returns,
        coalesce(-sum(amount) FILTER (event_type = 'return'), 0) AS returned_value,
        coalesce(sum(amount), 0) AS revenue,
        min(ts) AS first_seen,
        max(ts) AS last_seen,
        count(idx) AS categorised
        /*category_counts*/
    FROM ev LEFT JOIN cat_map USING (category)
    GROUP BY user_id
)
SELECT
    u.user_id,
    (epoch($t_ref) - epoch(coalesce(o.last_order, u.last_seen))) / 86400.0 AS recency_days,
    (epoch($t_ref) - epoch(coalesce(o.first_order, u.first_seen))) / 86400.0 AS tenure_days,
    coalesce(o.n_purchases, 0) AS n_purchases,
    u.revenue,
    o.order_value / o.n_purchases AS avg_order_value,
    o.items,
    o.items / o.n_purchases AS items_per_order,
    r.purchase_interval_days,
    r.interval_regularity,
    u.n_returns,
    u.returned_value,
    /*category_diversity*/ AS category_diversity
    /*category_columns*/
FROM per_user u
LEFT JOIN per_order o USING (user_id)
LEFT JOIN rhythm r USING (user_id)
/*tail_join*/
