-- Live updates: who reads which events, and what the API's role may do to the
-- events, the horizon and the stream tickets. Rolled back: safe on a live
-- database (as a superuser):  pg_prove -d "$URL" policies/tests/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(25);

SELECT trigger_is('public', 'todos', 'todos_events', 'app', 'record_todo_event');
SELECT table_privs_are('public', 'events', 'todo_app', ARRAY['SELECT'], 'todo_app only reads events');
SELECT table_privs_are('public', 'events', 'todo_auditor', ARRAY['SELECT'], 'the auditor only reads events');
SELECT table_privs_are('public', 'event_horizon', 'todo_app', ARRAY[]::text[], 'todo_app has nothing on the horizon');
SELECT table_privs_are('public', 'event_tickets', 'todo_app', ARRAY[]::text[], 'todo_app has no table-wide right on tickets');
SELECT column_privs_are('public', 'event_tickets', 'hash', 'todo_app', ARRAY['INSERT'], 'todo_app inserts tickets, never reads them');
SELECT column_privs_are('public', 'event_tickets', 'expires_at', 'todo_app', ARRAY[]::text[], 'todo_app cannot set a ticket''s expiry');

CREATE FUNCTION pg_temp.act_as(r text, u text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'RESET ROLE';
    PERFORM set_config('app.user_id', u, true);
    EXECUTE format('SET LOCAL ROLE %I', r);
END $$;

-- Changes by alice and bob, made through todo_app like the API's.
SELECT pg_temp.act_as('todo_app', 'alice');
INSERT INTO todos (user_id, title) VALUES ('alice', 'alice 1');
UPDATE todos SET completed = true WHERE title = 'alice 1';
DELETE FROM todos WHERE title = 'alice 1';
SELECT pg_temp.act_as('todo_app', 'bob');
INSERT INTO todos (user_id, title) VALUES ('bob', 'bob 1');

SELECT pg_temp.act_as('todo_app', 'alice');
SELECT results_eq($$SELECT kind FROM events ORDER BY pos_txid, id$$,
    ARRAY['todo.created', 'todo.updated', 'todo.deleted'], 'alice reads her three events, the delete included, in order');
SELECT results_eq($$SELECT payload->>'completed' FROM events WHERE kind = 'todo.updated'$$, ARRAY['true'], 'an update carries the new row');
SELECT results_eq($$SELECT payload = jsonb_build_object('id', todo_id, 'list_id', list_id) FROM events WHERE kind = 'todo.deleted'$$,
    ARRAY[true], 'a delete carries the id and the list only');
SELECT throws_ok($$INSERT INTO events (pos_txid, kind, list_id, todo_id, payload) VALUES ('1', 'todo.created', gen_random_uuid(), gen_random_uuid(), '{}')$$,
    '42501', NULL, 'todo_app cannot forge an event');
SELECT throws_ok($$DELETE FROM events$$, '42501', NULL, 'todo_app cannot delete events');
SELECT throws_ok($$UPDATE events SET member_id = 'bob'$$, '42501', NULL, 'todo_app cannot change events');

SELECT pg_temp.act_as('todo_app', 'bob');
SELECT results_eq($$SELECT payload->>'title' FROM events WHERE todo_id IS NOT NULL$$, ARRAY['bob 1'], 'bob reads only his own todo''s event, none of alice''s');
SELECT is_empty($$SELECT * FROM events WHERE member_id IS NOT NULL$$, 'making his personal list sent no event');
SELECT pg_temp.act_as('todo_app', NULL);
SELECT is_empty($$SELECT * FROM events$$, 'no identity, no events');
SELECT results_eq($$SELECT cardinality(users) FROM app.event_changes('0', 0)$$, ARRAY[0],
    'event_changes names nobody while the writing transaction runs: its events are above the watermark');

-- Tickets.
SELECT pg_temp.act_as('todo_app', 'alice');
SELECT throws_ok($$INSERT INTO event_tickets (hash, user_id, token_until) VALUES (sha256('x'), 'bob', now() + interval '1 hour')$$,
    '42501', NULL, 'alice cannot make a ticket for bob');
SELECT lives_ok($$INSERT INTO event_tickets (hash, user_id, token_until) VALUES (sha256('t'), 'alice', now() + interval '1 hour')$$,
    'alice makes a ticket for herself');
SELECT throws_ok($$SELECT * FROM event_tickets$$, '42501', NULL, 'nobody reads tickets back');
SELECT pg_temp.act_as('todo_app', NULL);
SELECT results_eq($$SELECT user_id FROM app.redeem_event_ticket(sha256('t'))$$, ARRAY['alice'], 'a ticket names its user');
SELECT is_empty($$SELECT * FROM app.redeem_event_ticket(sha256('t'))$$, 'a ticket works once');

-- Retention: old events go and the horizon moves past them.
RESET ROLE;
UPDATE events SET created_at = now() - interval '2 days' WHERE list_id = (SELECT id FROM lists WHERE personal_of = 'alice');
SELECT pg_temp.act_as('todo_app', NULL);
SELECT results_eq($$SELECT app.prune_events(interval '1 day')$$, ARRAY[3::bigint], 'pruning removes the old events');
RESET ROLE;
SELECT is_empty($$SELECT * FROM events WHERE list_id = (SELECT id FROM lists WHERE personal_of = 'alice')$$, 'alice''s events are gone');
SELECT ok((SELECT pos_txid = pg_current_xact_id() AND id > 0 FROM event_horizon), 'the horizon moved past them');

SELECT * FROM finish();
ROLLBACK;
