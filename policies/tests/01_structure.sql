-- What the catalog must say for row-level security to hold. Runs inside a
-- transaction that is rolled back: safe on a live database (as a superuser,
-- which CREATE EXTENSION pgtap needs):  pg_prove -d "$URL" policies/tests/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(62);

-- Every application table, in public and audit, has RLS enabled and forced,
-- and at least one policy. (schema_migrations is golang-migrate's bookkeeping:
-- versions only, no user data.)
CREATE TEMP VIEW app_tables AS
SELECT c.oid, n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname IN ('public', 'audit') AND c.relname <> 'schema_migrations';

SELECT isnt_empty('SELECT * FROM app_tables', 'there are application tables');
SELECT is_empty('SELECT nspname, relname FROM app_tables WHERE NOT relrowsecurity',
    'every table has row-level security enabled');
SELECT is_empty('SELECT nspname, relname FROM app_tables WHERE NOT relforcerowsecurity',
    'every table has row-level security forced (the owner obeys it too)');
SELECT is_empty('SELECT nspname, relname FROM app_tables t WHERE NOT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = t.oid)',
    'every table has policies');

-- Exactly these tables: a new one must be added here, after the checks above
-- have made sure it has forced RLS and policies. Schema app holds functions
-- only: nothing there for the API to read or write.
SELECT tables_are('public', ARRAY['todos', 'idempotency_keys', 'lists', 'list_members', 'list_invitations',
    'events', 'event_horizon', 'event_tickets', 'schema_migrations']);
SELECT tables_are('audit', ARRAY['todo_changes', 'list_changes']);
SELECT is_empty($$SELECT relname FROM pg_class WHERE relnamespace = 'app'::regnamespace$$, 'schema app holds no relation');

-- An index leads with every column a policy or app.my_lists filters on, so
-- that no check scans a table.
SELECT is_empty($$
    SELECT t, c FROM (VALUES ('todos', 'list_id'), ('lists', 'id'), ('list_members', 'list_id'),
                             ('list_members', 'user_id'), ('list_invitations', 'list_id'),
                             ('list_invitations', 'token_hash'), ('idempotency_keys', 'user_id')) f(t, c)
    WHERE NOT EXISTS (SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                      WHERE i.indrelid = f.t::regclass AND a.attname = f.c)$$,
    'an index leads with every column the policies filter on');

-- The roles.
SELECT is((SELECT rolsuper OR rolbypassrls OR rolcanlogin FROM pg_roles WHERE rolname = 'todo_app'), false,
    'todo_app is not superuser, not BYPASSRLS, cannot log in');
SELECT is((SELECT rolsuper OR rolbypassrls OR rolcanlogin FROM pg_roles WHERE rolname = 'todo_auditor'), false,
    'todo_auditor is not superuser, not BYPASSRLS, cannot log in');
SELECT is_empty($$SELECT relname FROM pg_class WHERE relowner IN ('todo_app'::regrole, 'todo_auditor'::regrole)$$,
    'todo_app and todo_auditor own no relation');
SELECT is_empty($$SELECT proname FROM pg_proc WHERE proowner IN ('todo_app'::regrole, 'todo_auditor'::regrole)$$,
    'todo_app and todo_auditor own no function');

-- Exact grants.
SELECT table_privs_are('public', 'todos', 'todo_app', ARRAY['SELECT', 'DELETE'],
    'todo_app: SELECT and DELETE on todos, no TRUNCATE/REFERENCES/TRIGGER');
SELECT column_privs_are('public', 'todos', 'user_id', 'todo_app', ARRAY['SELECT', 'INSERT']);
SELECT column_privs_are('public', 'todos', 'title', 'todo_app', ARRAY['SELECT', 'INSERT', 'UPDATE']);
SELECT column_privs_are('public', 'todos', 'id', 'todo_app', ARRAY['SELECT']);
SELECT column_privs_are('public', 'todos', 'created_at', 'todo_app', ARRAY['SELECT']);
SELECT column_privs_are('public', 'todos', 'updated_at', 'todo_app', ARRAY['SELECT']);
SELECT column_privs_are('public', 'todos', 'version', 'todo_app', ARRAY['SELECT'], 'todo_app cannot set a version');
SELECT column_privs_are('public', 'todos', 'due_sort', 'todo_app', ARRAY['SELECT']);
SELECT table_privs_are('public', 'idempotency_keys', 'todo_app', ARRAY['SELECT', 'DELETE'],
    'todo_app: SELECT and DELETE on idempotency_keys (INSERT by column)');
SELECT table_privs_are('public', 'idempotency_keys', 'todo_auditor', ARRAY[]::text[], 'the auditor has no business with idempotency keys');
SELECT schema_privs_are('audit', 'todo_app', ARRAY[]::text[], 'todo_app has no privilege on schema audit');
SELECT table_privs_are('audit', 'todo_changes', 'todo_app', ARRAY[]::text[], 'todo_app has no privilege on the audit trail');
SELECT table_privs_are('public', 'todos', 'todo_auditor', ARRAY['SELECT'], 'todo_auditor only reads todos');
SELECT table_privs_are('audit', 'todo_changes', 'todo_auditor', ARRAY['SELECT'], 'todo_auditor only reads the audit trail');
SELECT table_privs_are('public', 'todos', 'public', ARRAY[]::text[], 'PUBLIC has nothing on todos');
SELECT column_privs_are('public', 'todos', 'list_id', 'todo_app', ARRAY['SELECT', 'INSERT'], 'todo_app cannot move a todo to another list');

-- Exact grants on the tables of sharing: per column, what todo_app may do.
CREATE TEMP VIEW app_column_privs AS
SELECT a.attrelid::regclass AS rel, a.attname::text COLLATE "default" AS col,
       array_to_string(ARRAY(SELECT p FROM unnest('{SELECT,INSERT,UPDATE,REFERENCES}'::text[]) p
                             WHERE has_column_privilege('todo_app', a.attrelid, a.attnum, p)), ',') AS privs
FROM pg_attribute a WHERE a.attnum > 0 AND NOT a.attisdropped;
SELECT table_privs_are('public', 'lists', 'todo_app', ARRAY['SELECT', 'DELETE'], 'todo_app: SELECT and DELETE on lists');
SELECT results_eq($$SELECT col, privs FROM app_column_privs WHERE rel = 'lists'::regclass ORDER BY col$$,
    $$VALUES ('created_at', 'SELECT'), ('created_by', 'SELECT,INSERT'), ('id', 'SELECT,INSERT'), ('name', 'SELECT,INSERT,UPDATE'),
             ('personal_of', 'SELECT,INSERT'), ('updated_at', 'SELECT'), ('version', 'SELECT')$$,
    'todo_app on lists: names a list and its creator, renames it; nothing else');
SELECT table_privs_are('public', 'list_members', 'todo_app', ARRAY['SELECT', 'DELETE'], 'todo_app: SELECT and DELETE on list_members');
SELECT results_eq($$SELECT col, privs FROM app_column_privs WHERE rel = 'list_members'::regclass ORDER BY col$$,
    $$VALUES ('added_at', 'SELECT'), ('added_by', 'SELECT,INSERT'), ('joined_snapshot', 'SELECT'), ('joined_txid', 'SELECT'),
             ('list_id', 'SELECT,INSERT'), ('role', 'SELECT,INSERT,UPDATE'), ('user_id', 'SELECT,INSERT')$$,
    'todo_app on list_members: adds a member, changes only a role (never when they joined)');
SELECT table_privs_are('public', 'list_invitations', 'todo_app', ARRAY['SELECT'], 'todo_app: SELECT on list_invitations, never DELETE');
SELECT results_eq($$SELECT col, privs FROM app_column_privs WHERE rel = 'list_invitations'::regclass ORDER BY col$$,
    $$VALUES ('created_at', 'SELECT'), ('created_by', 'SELECT,INSERT'), ('expires_at', 'SELECT,INSERT'), ('id', 'SELECT'),
             ('list_id', 'SELECT,INSERT'), ('max_uses', 'SELECT,INSERT'), ('revoked_at', 'SELECT,UPDATE'), ('role', 'SELECT,INSERT'),
             ('token_hash', 'SELECT,INSERT'), ('uses', 'SELECT')$$,
    'todo_app on list_invitations: creates one, revokes it; never sets its uses');
SELECT table_privs_are('audit', 'list_changes', 'todo_app', ARRAY[]::text[], 'todo_app has no privilege on the trail of sharing');
SELECT table_privs_are('public', 'lists', 'todo_auditor', ARRAY['SELECT'], 'todo_auditor only reads lists');
SELECT table_privs_are('public', 'list_members', 'todo_auditor', ARRAY['SELECT'], 'todo_auditor only reads list_members');
SELECT table_privs_are('public', 'list_invitations', 'todo_auditor', ARRAY['SELECT'], 'todo_auditor only reads list_invitations');
SELECT table_privs_are('audit', 'list_changes', 'todo_auditor', ARRAY['SELECT'], 'todo_auditor only reads the trail of sharing');
SELECT is_empty($$
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace IN ('public'::regnamespace, 'audit'::regnamespace) AND c.relkind IN ('r', 'p')
      AND EXISTS (SELECT FROM aclexplode(c.relacl) a WHERE a.grantee = 0)$$,
    'PUBLIC has nothing on any table');

-- Schema app: the helpers the policies call. todo_app may run the two the
-- policies and joining need; nobody else may run any of them directly.
SELECT schema_privs_are('app', 'todo_app', ARRAY['USAGE'], 'todo_app may use schema app, not create in it');
SELECT schema_privs_are('app', 'public', ARRAY[]::text[], 'PUBLIC has nothing on schema app');
SELECT functions_are('app', ARRAY['my_lists', 'my_joinings', 'my_latest_joining', 'accept_invitation', 'personal_list', 'keep_an_owner',
    'add_creator_as_owner', 'default_to_personal_list',
    'record_todo_event', 'record_list_event', 'event_changes', 'event_horizon', 'prune_events', 'redeem_event_ticket']);
SELECT results_eq($$
    SELECT p.oid::regprocedure::text FROM pg_proc p
    WHERE p.pronamespace IN ('app'::regnamespace, 'audit'::regnamespace) AND has_function_privilege('todo_app', p.oid, 'EXECUTE')
    ORDER BY 1$$,
    ARRAY['app.accept_invitation(bytea)', 'app.event_changes(xid8,bigint)', 'app.event_horizon()', 'app.my_joinings()',
          'app.my_latest_joining()', 'app.my_lists(text[])', 'app.prune_events(interval)', 'app.redeem_event_ticket(bytea)'],
    'todo_app may execute app.my_lists, app.my_joinings, app.my_latest_joining, app.accept_invitation and the event functions, and no other function of app or audit');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p
    WHERE p.pronamespace IN ('app'::regnamespace, 'audit'::regnamespace)
      AND (has_function_privilege('public', p.oid, 'EXECUTE') OR has_function_privilege('todo_auditor', p.oid, 'EXECUTE'))$$,
    'neither PUBLIC nor todo_auditor may execute any function of app or audit');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p WHERE p.pronamespace = 'app'::regnamespace AND NOT p.prosecdef$$,
    'every function of app runs as its owner (SECURITY DEFINER; the search_path check above covers them)');
SELECT volatility_is('app', 'my_lists', ARRAY['text[]'], 'volatile',
    'app.my_lists is VOLATILE: it sees a personal list made earlier in the same statement');

-- Hazards that would route around the policies.
SELECT is_empty($$
    SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_temp%'
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'e') -- extensions' own
      AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)$$,
    'no view runs with its owner''s rights (all have security_invoker)');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')$$,
    'every SECURITY DEFINER function pins its search_path');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prosecdef AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
      AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
    'no SECURITY DEFINER function is executable by PUBLIC');
SELECT is_empty($$
    SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.proleakproof AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')$$,
    'no user-defined LEAKPROOF function');
SELECT is_empty($$
    SELECT schemaname, tablename, policyname FROM pg_policies
    WHERE (roles && ARRAY['todo_app', 'public']::name[])
      AND (qual = 'true' OR with_check = 'true')$$,
    'no policy lets todo_app (or PUBLIC) at every row');
SELECT is_empty($$
    SELECT schemaname, tablename, policyname FROM pg_policies
    WHERE schemaname = 'audit' AND cmd IN ('UPDATE', 'DELETE', 'ALL')$$,
    'the audit trail has no UPDATE or DELETE policy: append-only');

-- The audit trigger is in place and fires for every change.
SELECT trigger_is('public', 'todos', 'todos_audit', 'audit', 'record_todo_change');
SELECT is((SELECT tgenabled FROM pg_trigger WHERE tgname = 'todos_audit'), 'O', 'the audit trigger is enabled');
SELECT trigger_is('public', 'lists', 'lists_audit', 'audit', 'record_list_change');
SELECT trigger_is('public', 'list_members', 'list_members_audit', 'audit', 'record_list_change');
SELECT trigger_is('public', 'list_invitations', 'list_invitations_audit', 'audit', 'record_list_change');
SELECT trigger_is('public', 'list_members', 'list_members_keep_an_owner', 'app', 'keep_an_owner');
SELECT trigger_is('public', 'lists', 'lists_add_creator_as_owner', 'app', 'add_creator_as_owner');
SELECT trigger_is('public', 'todos', 'todos_default_to_personal_list', 'app', 'default_to_personal_list');
SELECT is_empty($$SELECT tgrelid::regclass, tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'O'$$,
    'every trigger is enabled');

SELECT * FROM finish();
ROLLBACK;
