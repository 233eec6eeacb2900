-- Share of each user's categorised events per content category, long form (user_id, feature, share),
-- where feature is 'share_<category>'. Only the most frequent categories get a column of
-- their own (limit bound as $top); the rest fall into 'other' so that a long tail cannot
-- explode the feature count.
--
-- Input: `user_categories` (user_categories.sql).
WITH top AS (
    SELECT category FROM user_categories GROUP BY category ORDER BY sum(n) DESC, category LIMIT $top
),
counted AS (
    SELECT user_id,
           CASE WHEN category IN (SELECT category FROM top) THEN category ELSE 'other' END AS category,
           sum(n) AS n
    FROM user_categories GROUP BY ALL
)
SELECT user_id, 'share_' || category AS feature, n / sum(n) OVER (PARTITION BY user_id) AS share
FROM counted
