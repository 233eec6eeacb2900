-- Events per user and content category (rows with a category only).
--
-- Input: `ev` (clean_events.sql). One pass over the events feeds both the number of
-- categories a user visited and the per-category shares (category_shares.sql).
-- Raw values are counted first and normalised afterwards: the regular expression then runs
-- on each distinct value once, not on every event.
WITH raw AS (
    SELECT user_id, category, count(*) AS n
    FROM ev
    WHERE category IS NOT NULL
    GROUP BY ALL
),
names AS (
    SELECT category, lower(regexp_replace(trim(category), '[^A-Za-z0-9]+', '_', 'g')) AS normalised
    FROM (SELECT DISTINCT category FROM raw)
)
SELECT user_id, normalised AS category, sum(n)::BIGINT AS n
FROM raw JOIN names USING (category)
WHERE normalised <> ''
GROUP BY ALL
