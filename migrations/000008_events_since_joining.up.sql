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

-- Whether a change to list written by transaction writer came after the
-- caller joined the list (NULL if they are not a member), for the policy on
-- events (policies/events.sql). It reads list_members as its owner, as
-- app.my_lists does.
CREATE FUNCTION app.after_joining(list uuid, writer xid8) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    RETURN (SELECT writer = m.joined_txid OR NOT pg_visible_in_snapshot(writer, m.joined_snapshot)
            FROM public.list_members m
            WHERE m.list_id = list AND m.user_id = NULLIF(current_setting('app.user_id', true), ''));
END
$$;
REVOKE ALL ON FUNCTION app.after_joining(uuid, xid8) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.after_joining(uuid, xid8) TO todo_app;
