-- Who receives which live update (GET /v1/events).
--
-- An event reaches a subscriber only if this policy, evaluated under the
-- subscriber's identity (role todo_app, app.user_id), lets them see its row:
-- the API reads each affected subscriber's events with one query as that
-- subscriber and delivers exactly the rows it gets. An event of a list is seen
-- by whoever is a member of that list when it is delivered (app.my_lists, as
-- for todos), if it came after they joined, and a membership event also by
-- the member it concerns: a person removed from a list gets the event of
-- their removal and nothing of the list after it; a delete is seen by the
-- members who could see the todo.
--
-- "After they joined" (migration 000008): the event's writing transaction
-- (txid) is the one that made the membership, or had not committed in the
-- snapshot the membership row was written in. So a new or returning member
-- gets none of the list's history, and every change committed after they
-- joined. An event written at or above app.my_latest_joining() came after
-- all the caller's joinings (a stream's usual case); only older ones are
-- looked up in app.my_joinings(), {list: snapshot}, which is then built once
-- for the statement (InitPlans run when first needed, and OR stops early).

CREATE POLICY events_select_member ON events
    FOR SELECT TO todo_app
    USING ((list_id = ANY (ARRAY(SELECT app.my_lists('{owner,editor,viewer}')))
            AND (txid >= (SELECT app.my_latest_joining())
                 OR NOT pg_visible_in_snapshot(txid, ((SELECT app.my_joinings()) ->> list_id::text)::pg_snapshot)))
           OR member_id = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY events_auditor_read ON events
    FOR SELECT TO todo_auditor
    USING (true);

-- Who might be affected by the events after a position: the users the poller
-- checks, each with one query under their identity. This decides nothing about
-- delivery (the policy above does); it only spares the users who cannot have
-- anything new. It must name at least everyone the policy lets see one of
-- those rows: change the two together.
-- It also returns the watermark: the oldest transaction still running. Every
-- row below it is final; the poller reads up to it and no further.
CREATE OR REPLACE FUNCTION app.event_changes(after_txid xid8, after_id bigint)
    RETURNS TABLE (watermark xid8, users text[])
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
    WITH w AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
    SELECT w.xmin, ARRAY(
        SELECT m.user_id FROM public.list_members m
        WHERE m.list_id IN (SELECT e.list_id FROM public.events e
                            WHERE (e.pos_txid, e.id) > (after_txid, after_id) AND e.pos_txid < w.xmin)
        UNION
        SELECT e.member_id FROM public.events e
        WHERE (e.pos_txid, e.id) > (after_txid, after_id) AND e.pos_txid < w.xmin AND e.member_id IS NOT NULL)
    FROM w
$$;
REVOKE ALL ON FUNCTION app.event_changes(xid8, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.event_changes(xid8, bigint) TO todo_app;

-- The owner's functions above (SECURITY DEFINER) write events from the todos
-- trigger, read them for event_changes, and prune them; no DML reaches these
-- tables otherwise. todo_app has no UPDATE, INSERT or DELETE right on events.
CREATE POLICY events_owner ON events
    FOR ALL TO CURRENT_USER
    USING (true) WITH CHECK (true);

CREATE POLICY event_horizon_owner ON event_horizon
    FOR ALL TO CURRENT_USER
    USING (true) WITH CHECK (true);

CREATE POLICY event_horizon_auditor_read ON event_horizon
    FOR SELECT TO todo_auditor
    USING (true);

-- Tickets: a user may create tickets for themselves only; nobody reads them
-- back. Redeeming (and expiry) is app.redeem_event_ticket / app.prune_events.
CREATE POLICY event_tickets_insert_own ON event_tickets
    FOR INSERT TO todo_app
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY event_tickets_owner ON event_tickets
    FOR ALL TO CURRENT_USER
    USING (true) WITH CHECK (true);
