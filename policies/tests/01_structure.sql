-- What the catalog must say for row-level security to hold. Runs inside a
-- transaction that is rolled back: safe on a live database (as a superuser,
-- which CREATE EXTENSION pgtap needs):  pg_prove -d "$URL" policies/tests/*.sql
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
SELECT plan(31);

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

SELECT * FROM finish();
ROLLBACK;
