-- What each role can do to whose rows, tried for real. Runs inside a
-- transaction that is rolled back: safe on a live database (as a superuser):
--   pg_prove -d "$URL" policies/tests/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(41);

-- Two rows of alice, one of bob, each in their personal list (bob's made
-- here with a known id; alice's by the insert trigger).
INSERT INTO lists (id, name, personal_of, created_by) VALUES ('00000000-0000-4000-8000-0000000000b0', 'Personal', 'bob', 'bob');
INSERT INTO todos (id, user_id, title) VALUES
    ('00000000-0000-4000-8000-00000000000a', 'alice', 'alice 1'),
    ('00000000-0000-4000-8000-00000000000b', 'alice', 'alice 2'),
    ('00000000-0000-4000-8000-00000000000c', 'bob', 'bob 1');

-- act_as(role, user) switches to role with app.user_id = user until the next
-- act_as. NULL resets app.user_id to its default, ''. (A session that never set
-- it reads NULL; the Go tests in db/ cover that case.)
CREATE FUNCTION pg_temp.act_as(r text, u text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'RESET ROLE';
    PERFORM set_config('app.user_id', u, true);
    EXECUTE format('SET LOCAL ROLE %I', r);
END $$;

-- ---------------------------------------------------------------- the owner of the rows
SELECT pg_temp.act_as('todo_app', 'alice');
SELECT results_eq('SELECT title FROM todos ORDER BY title', ARRAY['alice 1', 'alice 2'], 'alice sees exactly her rows');
SELECT lives_ok($$INSERT INTO todos (user_id, title) VALUES ('alice', 'alice 3')$$, 'alice inserts her own row');
SELECT results_eq($$WITH u AS (UPDATE todos SET completed = true WHERE user_id = 'alice' RETURNING 1) SELECT count(*)::int FROM u$$,
    ARRAY[3], 'alice updates her rows');
SELECT results_eq($$WITH d AS (DELETE FROM todos WHERE title = 'alice 3' RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[1], 'alice deletes her row');

-- ---------------------------------------------------------------- a stranger
SELECT pg_temp.act_as('todo_app', 'bob');
SELECT results_eq('SELECT title FROM todos', ARRAY['bob 1'], 'bob sees only his row');
SELECT is_empty($$SELECT * FROM todos WHERE id = '00000000-0000-4000-8000-00000000000a'$$, 'bob cannot read alice''s row by id');
SELECT throws_ok($$INSERT INTO todos (user_id, title) VALUES ('alice', 'forged')$$, '42501', NULL, 'bob cannot insert a row for alice');
SELECT results_eq($$WITH u AS (UPDATE todos SET title = 'pwned' WHERE user_id = 'alice' RETURNING 1) SELECT count(*)::int FROM u$$,
    ARRAY[0], 'bob updates none of alice''s rows');
SELECT results_eq($$WITH d AS (DELETE FROM todos WHERE user_id = 'alice' RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[0], 'bob deletes none of alice''s rows');
SELECT throws_ok($$UPDATE todos SET user_id = 'alice'$$, '42501', NULL, 'bob cannot rewrite who created his row');

-- ---------------------------------------------------------------- no identity, empty identity
SELECT pg_temp.act_as('todo_app', NULL);
SELECT is_empty('SELECT * FROM todos', 'without identity: no row visible');
SELECT throws_ok($$INSERT INTO todos (user_id, title) VALUES ('', 'x')$$, '42501', NULL, 'without identity: no insert');
SELECT throws_ok($$INSERT INTO todos (user_id, title) VALUES ('alice', 'x')$$, '42501', NULL, 'without identity: no insert for alice');
SELECT results_eq($$WITH u AS (UPDATE todos SET title = 'x' RETURNING 1) SELECT count(*)::int FROM u$$, ARRAY[0], 'without identity: no update');
SELECT results_eq($$WITH d AS (DELETE FROM todos RETURNING 1) SELECT count(*)::int FROM d$$, ARRAY[0], 'without identity: no delete');
SELECT pg_temp.act_as('todo_app', '');
SELECT is_empty('SELECT * FROM todos', 'empty identity: no row visible, no error');

-- ---------------------------------------------------------------- WITH CHECK alone keeps rows in lists their writer may write in
RESET ROLE;
GRANT UPDATE (list_id) ON todos TO todo_app; -- rolled back with the rest
SELECT pg_temp.act_as('todo_app', 'alice');
SELECT throws_ok($$UPDATE todos SET list_id = '00000000-0000-4000-8000-0000000000b0' WHERE title = 'alice 1'$$, '42501', NULL,
    'even with UPDATE on list_id, the policy''s WITH CHECK stops moving a row into bob''s list');
RESET ROLE;
REVOKE UPDATE (list_id) ON todos FROM todo_app;

-- ---------------------------------------------------------------- idempotency keys are per user too
SELECT pg_temp.act_as('todo_app', 'alice');
INSERT INTO idempotency_keys (user_id, key, request_hash, response) VALUES ('alice', 'k1', '\x00', '{}');
SELECT throws_ok($$INSERT INTO idempotency_keys (user_id, key, request_hash, response) VALUES ('bob', 'k1', '\x00', '{}')$$,
    '42501', NULL, 'alice cannot record a key for bob');
SELECT pg_temp.act_as('todo_app', 'bob');
SELECT is_empty('SELECT * FROM idempotency_keys', 'bob sees none of alice''s keys');
SELECT results_eq($$WITH d AS (DELETE FROM idempotency_keys RETURNING 1) SELECT count(*)::int FROM d$$, ARRAY[0],
    'bob deletes none of alice''s keys');

-- ---------------------------------------------------------------- the app and the audit trail
SELECT pg_temp.act_as('todo_app', 'alice');
SELECT throws_ok('SELECT * FROM audit.todo_changes', '42501', NULL, 'todo_app cannot read the audit trail');
SELECT throws_ok('DELETE FROM audit.todo_changes', '42501', NULL, 'todo_app cannot delete audit rows');
SELECT throws_ok($$INSERT INTO audit.todo_changes (db_role, action, todo_id, todo_user_id) VALUES ('x', 'INSERT', gen_random_uuid(), 'x')$$,
    '42501', NULL, 'todo_app cannot forge audit rows');
SELECT throws_ok('ALTER TABLE todos DISABLE TRIGGER todos_audit', '42501', NULL, 'todo_app cannot disable the audit trigger');
SELECT throws_ok('ALTER TABLE todos NO FORCE ROW LEVEL SECURITY', '42501', NULL, 'todo_app cannot turn RLS off');
SELECT throws_ok('SELECT audit.record_todo_change()', '42501', NULL, 'todo_app cannot call the audit function');

-- ---------------------------------------------------------------- the audit trail records every change
SELECT pg_temp.act_as('todo_app', 'carol');
SELECT set_config('app.request_id', 'req-42', true);
INSERT INTO todos (user_id, title) VALUES ('carol', 'carol 1');
UPDATE todos SET completed = true WHERE title = 'carol 1';
DELETE FROM todos WHERE title = 'carol 1';
SAVEPOINT rolled_back;
INSERT INTO todos (user_id, title) VALUES ('carol', 'never happened');
ROLLBACK TO SAVEPOINT rolled_back;
RESET ROLE;
SELECT results_eq($$
    SELECT action, user_id, db_role, request_id, before->>'completed', after->>'completed'
    FROM audit.todo_changes WHERE todo_user_id = 'carol' ORDER BY id$$,
    $$VALUES ('INSERT', 'carol', 'todo_app', 'req-42', NULL, 'false'),
             ('UPDATE', 'carol', 'todo_app', 'req-42', 'false', 'true'),
             ('DELETE', 'carol', 'todo_app', 'req-42', 'true', NULL)$$,
    'insert, update and delete each leave one audit row: who, as what, which request, before and after');
SELECT is_empty($$SELECT * FROM audit.todo_changes WHERE after->>'title' = 'never happened'$$,
    'a rolled-back change leaves no audit row');
SELECT results_eq($$SELECT count(DISTINCT txid)::int FROM audit.todo_changes WHERE todo_user_id = 'carol'$$, ARRAY[1],
    'audit rows carry the transaction id');

-- ---------------------------------------------------------------- the auditor
SELECT pg_temp.act_as('todo_auditor', NULL);
SELECT results_eq('SELECT count(*)::int FROM todos', ARRAY[3], 'the auditor sees every user''s todos');
SELECT isnt_empty('SELECT * FROM audit.todo_changes', 'the auditor reads the audit trail');
SELECT throws_ok($$INSERT INTO todos (user_id, title) VALUES ('alice', 'x')$$, '42501', NULL, 'the auditor cannot insert');
SELECT throws_ok($$UPDATE todos SET title = 'x'$$, '42501', NULL, 'the auditor cannot update');
SELECT throws_ok('DELETE FROM todos', '42501', NULL, 'the auditor cannot delete');
SELECT throws_ok('TRUNCATE todos', '42501', NULL, 'the auditor cannot truncate');
SELECT throws_ok('DELETE FROM audit.todo_changes', '42501', NULL, 'the auditor cannot delete audit rows');
SELECT throws_ok($$UPDATE audit.todo_changes SET user_id = 'x'$$, '42501', NULL, 'the auditor cannot change audit rows');
SELECT pg_temp.act_as('todo_auditor', 'alice');
SELECT results_eq('SELECT count(*)::int FROM todos', ARRAY[3], 'an identity does not narrow the auditor''s view');

-- ---------------------------------------------------------------- the owner: FORCE applies
RESET ROLE;
SELECT pg_temp.act_as((SELECT tableowner FROM pg_tables WHERE tablename = 'todos'), 'alice');
SELECT is_empty('SELECT * FROM todos', 'the table owner sees no todo: FORCE, and no policy for it');
SELECT results_eq($$WITH u AS (UPDATE audit.todo_changes SET user_id = 'x' RETURNING 1) SELECT count(*)::int FROM u$$,
    ARRAY[0], 'not even the owner can change audit rows');
SELECT results_eq($$WITH d AS (DELETE FROM audit.todo_changes RETURNING 1) SELECT count(*)::int FROM d$$,
    ARRAY[0], 'not even the owner can delete audit rows');
RESET ROLE;

SELECT * FROM finish();
ROLLBACK;
