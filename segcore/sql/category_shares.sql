-- Share of each user's events per content category, long form (user_id, feature, share),
-- where feature is 'share_<category>'. Only the most frequent categories get a column of
-- their own (limit bound as $top); the rest fall into 'other' so that a long tail cannot
-- explode the feature count.
WITH ev AS (
    SELECT user_id, lower(regexp_replace(trim(category), '[^A-Za-z0-9]+', '_', 'g')) AS category
    FROM events
    WHERE user_id IS NOT NULL AND ts IS NOT NULL AND category IS NOT NULL AND trim(category) <> ''
),
top AS (
    SELECT category FROM ev GROUP BY category ORDER BY count(*) DESC, category LIMIT $top
),
counted AS (
    SELECT user_id,
           CASE WHEN category IN (SELECT category FROM top) THEN category ELSE 'other' END AS category,
           count(*) AS n
    FROM ev GROUP BY ALL
)
SELECT user_id, 'share_' || category AS feature, n / sum(n) OVER (PARTITION BY user_id) AS share
FROM counted
