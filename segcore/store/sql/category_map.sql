-- Content categories: each raw value, its normalised name, and the column it counts towards.
--
-- Input: `ev` (clean_events.sql, sessionised where needed). Raw values are counted first and
-- normalised afterwards, so the regular expression runs once per distinct value, not per event.
-- The $top most frequent names get an index 0..$top-1 and a share column of their own; the
-- long tail shares index $top ('other'), so that it cannot explode the feature count.
-- A category that is itself called 'other' joins the tail rather than take a frequent slot.
-- Values that normalise to nothing are left out (they count as uncategorised). Personal data inside a
-- value is masked before it names anything (pl_mask, defined by the store).
WITH raw AS (
    SELECT category, count(*) AS n FROM ev WHERE category IS NOT NULL GROUP BY category
),
named AS (
    SELECT category, lower(regexp_replace(trim(pl_mask(category)), '[^A-Za-z0-9]+', '_', 'g')) AS name, n FROM raw
),
ranked AS (
    SELECT name, CASE WHEN name = 'other' THEN $top
                      ELSE row_number() OVER (ORDER BY name = 'other', sum(n) DESC, name) - 1 END AS rank
    FROM named WHERE name <> '' GROUP BY name
)
SELECT category, name, least(rank, $top)::INTEGER AS idx
FROM named JOIN ranked USING (name)
