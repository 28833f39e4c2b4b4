-- Live updates (GET /v1/events). Every change to a todo adds one row to
-- events, in the same transaction, by a trigger the API cannot skip. Each API
-- instance tails the table and delivers each row to the subscribers that
-- row-level security lets see it (policies/events.sql). Rows live as long as
-- EVENTS_RETENTION (24 h by default); the server prunes them itself.

-- Helpers live in schema app (migrations/000004_lists.up.sql), which the API
-- does not serve from.

-- Order. A reader takes only rows whose pos_txid is below the oldest running
-- transaction (pg_snapshot_xmin of its snapshot): every such transaction has
-- ended, so no row can appear below that watermark later, and polling never
-- skips a row that committed late. Rows are read in (pos_txid, id) order,
-- which is the stream's position. pos_txid is the writing transaction's id,
-- raised to the previous event of the same todo when that is later: a
-- transaction that got its id early (toggle all) and then changed a todo that
-- a younger transaction had just changed still comes after it, so one todo's
-- events are in the order its versions were written.
CREATE TABLE events (
    id         bigint      GENERATED ALWAYS AS IDENTITY,
    txid       xid8        NOT NULL DEFAULT pg_current_xact_id(), -- the writing transaction
    pos_txid   xid8        NOT NULL,                             -- txid, or later: see above
    created_at timestamptz NOT NULL DEFAULT now(),
    kind       text        NOT NULL CHECK (kind IN ('todo.created', 'todo.updated', 'todo.deleted',
                                                    'list.updated', 'list.deleted',
                                                    'member.added', 'member.updated', 'member.removed')),
    list_id    uuid        NOT NULL, -- who may see it: the list's members at delivery (policies/events.sql)
    member_id  text,                 -- for member events and list.deleted: the member concerned, who sees it too
    todo_id    uuid,                 -- for todo events: the todo
    payload    jsonb       NOT NULL, -- todo: the row as the API returns it (with version, the ETag); delete: {id, list_id}
    PRIMARY KEY (pos_txid, id)
);
-- One list's events in stream order: the trigger's look-up, and the pollers'
-- "who may be affected".
CREATE INDEX events_list_id_pos_idx ON events (list_id, pos_txid, id);
CREATE INDEX events_member_id_pos_idx ON events (member_id, pos_txid, id) WHERE member_id IS NOT NULL;
-- Pruning by age; rows arrive roughly in created_at order, so BRIN is enough
-- and costs writes almost nothing.
CREATE INDEX events_created_at_idx ON events USING brin (created_at);
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
ALTER TABLE events FORCE ROW LEVEL SECURITY;
GRANT SELECT ON events TO todo_app;
GRANT SELECT ON events TO todo_auditor;

-- The newest position pruning removed: a client resuming from below it may
-- have missed events and is told to start over.
CREATE TABLE event_horizon (
    one      boolean PRIMARY KEY DEFAULT true CHECK (one),
    pos_txid xid8    NOT NULL DEFAULT '0',
    id       bigint  NOT NULL DEFAULT 0
);
INSERT INTO event_horizon DEFAULT VALUES;
ALTER TABLE event_horizon ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_horizon FORCE ROW LEVEL SECURITY;
GRANT SELECT ON event_horizon TO todo_auditor;

-- Stream tickets for EventSource, which cannot send an Authorization header:
-- short-lived, single-use, stored as SHA-256 hashes. Any instance redeems them.
CREATE TABLE event_tickets (
    hash        bytea       PRIMARY KEY CHECK (octet_length(hash) = 32),
    user_id     text        NOT NULL CHECK (user_id <> '' AND octet_length(user_id) <= 255),
    expires_at  timestamptz NOT NULL DEFAULT now() + interval '30 seconds',
    token_until timestamptz NOT NULL -- the bearer token's expiry: the stream ends there
);
CREATE INDEX event_tickets_expires_at_idx ON event_tickets (expires_at);
ALTER TABLE event_tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE event_tickets FORCE ROW LEVEL SECURITY;
GRANT INSERT (hash, user_id, token_until) ON event_tickets TO todo_app;

-- The trigger runs as the owner (SECURITY DEFINER) so that todo_app needs no
-- right to write events; search_path is pinned so no caller can redirect a name.
CREATE FUNCTION app.record_todo_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    me    xid8 := pg_current_xact_id();
    r     public.todos := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    later xid8;
BEGIN
    -- Usually no row: only a transaction younger than this one can have one.
    SELECT e.pos_txid INTO later FROM public.events e
    WHERE e.list_id = r.list_id AND e.pos_txid > me AND e.todo_id = r.id
    ORDER BY e.pos_txid DESC LIMIT 1;
    INSERT INTO public.events (pos_txid, kind, list_id, todo_id, payload)
    VALUES (
        greatest(me, later),
        CASE TG_OP WHEN 'INSERT' THEN 'todo.created' WHEN 'UPDATE' THEN 'todo.updated' ELSE 'todo.deleted' END,
        r.list_id,
        r.id,
        CASE WHEN TG_OP = 'DELETE' THEN jsonb_build_object('id', r.id, 'list_id', r.list_id)
             ELSE to_jsonb(r) - 'due_sort' - 'user_id' END
    );
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.record_todo_event() FROM PUBLIC;
CREATE TRIGGER todos_events AFTER INSERT OR UPDATE OR DELETE ON todos
    FOR EACH ROW EXECUTE FUNCTION app.record_todo_event();

-- Sharing changes are events of their list too: a rename (list.updated), and
-- each membership added, changed or removed (member.*), naming the member, who
-- sees the event even when it is their removal. Deleting a list removes its
-- members by cascade: each of them gets one list.deleted. Making a list sends
-- nothing (its creator made it; its first owner adds themselves): its first
-- todo or member does.
CREATE FUNCTION app.record_list_event() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    m public.list_members;
BEGIN
    IF TG_TABLE_NAME = 'lists' THEN
        INSERT INTO public.events (pos_txid, kind, list_id, payload)
        VALUES (pg_current_xact_id(), 'list.updated', NEW.id,
                jsonb_build_object('id', NEW.id, 'name', NEW.name, 'version', NEW.version));
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        m := OLD;
    ELSE
        m := NEW;
    END IF;
    IF TG_OP = 'INSERT' AND m.added_by = m.user_id THEN
        RETURN NULL; -- a new list's creator, its first owner
    END IF;
    INSERT INTO public.events (pos_txid, kind, list_id, member_id, payload)
    VALUES (
        pg_current_xact_id(),
        CASE TG_OP WHEN 'INSERT' THEN 'member.added' WHEN 'UPDATE' THEN 'member.updated'
             ELSE CASE WHEN EXISTS (SELECT FROM public.lists WHERE id = m.list_id) THEN 'member.removed' ELSE 'list.deleted' END
        END,
        m.list_id,
        m.user_id,
        jsonb_build_object('list_id', m.list_id, 'user_id', m.user_id, 'role', m.role)
    );
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.record_list_event() FROM PUBLIC;
CREATE TRIGGER lists_events AFTER UPDATE ON lists
    FOR EACH ROW EXECUTE FUNCTION app.record_list_event();
CREATE TRIGGER list_members_events AFTER INSERT OR UPDATE OR DELETE ON list_members
    FOR EACH ROW EXECUTE FUNCTION app.record_list_event();

-- The prune horizon, for a reader checking that a resume lost nothing.
CREATE FUNCTION app.event_horizon() RETURNS TABLE (pos_txid xid8, id bigint)
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
    SELECT h.pos_txid, h.id FROM public.event_horizon h
$$;
REVOKE ALL ON FUNCTION app.event_horizon() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.event_horizon() TO todo_app;

-- Retention, enforced by the API itself (each instance, every minute): events
-- older than keep go, at most 10,000 a call (the API calls again while a call
-- deletes that many), and the horizon moves past them; expired tickets go too.
CREATE FUNCTION app.prune_events(keep interval) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    n        bigint;
    top_txid xid8;
    top_id   bigint;
BEGIN
    DELETE FROM public.event_tickets WHERE expires_at < now();
    WITH gone AS (
        DELETE FROM public.events WHERE (pos_txid, id) IN (
            SELECT e.pos_txid, e.id FROM public.events e WHERE e.created_at < now() - keep LIMIT 10000)
        RETURNING pos_txid, id
    )
    SELECT count(*), (SELECT g.pos_txid FROM gone g ORDER BY g.pos_txid DESC, g.id DESC LIMIT 1),
           (SELECT g.id FROM gone g ORDER BY g.pos_txid DESC, g.id DESC LIMIT 1)
    INTO n, top_txid, top_id FROM gone;
    IF n > 0 THEN
        UPDATE public.event_horizon h SET pos_txid = top_txid, id = top_id
        WHERE (h.pos_txid, h.id) < (top_txid, top_id);
    END IF;
    RETURN n;
END
$$;
REVOKE ALL ON FUNCTION app.prune_events(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.prune_events(interval) TO todo_app;

-- Redeeming a ticket: the caller has no identity yet, so no policy could let
-- them see it. A ticket that exists and has not expired is deleted (single
-- use) and names its user; anything else returns no row.
CREATE FUNCTION app.redeem_event_ticket(ticket_hash bytea) RETURNS TABLE (user_id text, token_until timestamptz)
    LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
    DELETE FROM public.event_tickets t
    WHERE t.hash = ticket_hash AND t.expires_at > now() AND t.token_until > now()
    RETURNING t.user_id, t.token_until
$$;
REVOKE ALL ON FUNCTION app.redeem_event_ticket(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.redeem_event_ticket(bytea) TO todo_app;
