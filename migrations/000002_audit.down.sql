DROP TRIGGER todos_audit ON todos;
DROP SCHEMA audit CASCADE;
REVOKE ALL ON todos FROM todo_auditor;
REVOKE USAGE ON SCHEMA public FROM todo_auditor;
-- The role is cluster-wide and may serve other databases: it is left in place.
