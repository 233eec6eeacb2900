-- Session ids for events that have none: a user's session is cut at 30 minutes of inactivity.
--
-- Input: `clean_events` (see clean_events.sql). Only run when some events lack a session id:
-- the two window functions sort every event by user and time, the dearest step of the import.
-- Session ids keep the file's type (text or integers); cut sessions are named user_id#n.
WITH flagged AS (
    SELECT
        *,
        CASE WHEN session_id IS NULL THEN
            coalesce(epoch(ts) - epoch(lag(ts) OVER (PARTITION BY user_id ORDER BY ts)) > 1800, true)
        END AS new_session
    FROM clean_events
)
SELECT
    * EXCLUDE (session_id, new_session),
    coalesce(CAST(session_id AS VARCHAR),
             user_id || '#' || sum(new_session::INT) OVER (PARTITION BY user_id ORDER BY ts
                                                            ROWS UNBOUNDED PRECEDING)) AS session_id
FROM flagged
