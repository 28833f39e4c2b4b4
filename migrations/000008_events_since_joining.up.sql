-- A member receives a list's events from when they joined it, not its
-- history: someone invited today, or readmitted after a removal, resuming a
-- stream from an old position (Last-Event-ID) must not get the todos deleted,
-- the texts edited away, or the members who came and went before them.
--
-- A membership keeps the snapshot its row was written in and its transaction:
-- an event came after the joining if its writing transaction (events.txid)
-- had not committed in that snapshot, or is the joining transaction itself
-- (a first todo makes its personal list and membership in its own
-- transaction). So a change committed after the joining always reaches the
-- member, whichever transaction id it had. A role change keeps both; a
-- removal deletes the row, so being added again starts anew. Memberships from
-- before this migration keep seeing what they saw: a snapshot in which no
-- transaction had committed.
ALTER TABLE list_members
    ADD COLUMN joined_snapshot pg_snapshot NOT NULL DEFAULT '1:1:',
    ADD COLUMN joined_txid     xid8        NOT NULL DEFAULT '0';
ALTER TABLE list_members
    ALTER COLUMN joined_snapshot SET DEFAULT pg_current_snapshot(),
    ALTER COLUMN joined_txid SET DEFAULT pg_current_xact_id();

-- The caller's memberships, for the policy on events (policies/events.sql),
-- read once per statement (the policy calls each in a scalar subquery: an
-- InitPlan, run only if a row needs it), as their owner, as app.my_lists
-- does:
--   app.my_latest_joining(): the highest xmax of the caller's joining
--     snapshots: an event written by a transaction at or above it came after
--     every joining of theirs, the usual case, decided without the map;
--   app.my_joinings(): {list_id: snapshot}, each joining snapshot with the
--     joining transaction itself counted as running (so its events are
--     "after"); pg_visible_in_snapshot(txid, it) then means "before".
-- Both are VOLATILE, like app.my_lists: each reads with a fresh snapshot, and
-- the policy runs them in the order my_lists, my_latest_joining,
-- my_joinings, so a membership committed while a statement runs, if my_lists
-- sees it, is seen by the other two as well (a STABLE one would read the
-- statement's older snapshot, miss it, and let that list's history through).
-- A membership whose joined_txid the database has not handed out yet was
-- written in another cluster (a dump restored elsewhere): it counts as one
-- from before this migration, rather than hiding every new event from its
-- member.
CREATE FUNCTION app.my_latest_joining() RETURNS xid8
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    next xid8 := pg_snapshot_xmax(pg_current_snapshot());
BEGIN
    RETURN (SELECT max(pg_snapshot_xmax(m.joined_snapshot)) FROM public.list_members m
            WHERE m.user_id = NULLIF(current_setting('app.user_id', true), '') AND m.joined_txid < next);
END
$$;
REVOKE ALL ON FUNCTION app.my_latest_joining() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.my_latest_joining() TO todo_app;

CREATE FUNCTION app.my_joinings() RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    next xid8 := pg_snapshot_xmax(pg_current_snapshot());
BEGIN
    RETURN coalesce((
        SELECT jsonb_object_agg(m.list_id::text, CASE
            WHEN m.joined_txid >= next THEN '1:1:'
            WHEN m.joined_txid = '0' OR m.joined_txid >= pg_snapshot_xmax(m.joined_snapshot) THEN m.joined_snapshot::text
            ELSE format('%s:%s:%s', least(pg_snapshot_xmin(m.joined_snapshot), m.joined_txid), pg_snapshot_xmax(m.joined_snapshot),
                        array_to_string(ARRAY(SELECT x FROM pg_snapshot_xip(m.joined_snapshot) x
                                              UNION SELECT m.joined_txid ORDER BY 1), ','))
            END)
        FROM public.list_members m
        WHERE m.user_id = NULLIF(current_setting('app.user_id', true), '')), '{}');
END
$$;
REVOKE ALL ON FUNCTION app.my_joinings() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.my_joinings() TO todo_app;
