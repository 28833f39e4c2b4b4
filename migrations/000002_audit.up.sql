-- The audit trail: one row per inserted, updated or deleted todo, written by a
-- trigger that todo_app can neither skip, read nor change.

-- Read-only role for DBAs: sees every todo and the whole trail, changes nothing.
-- A DBA's login is granted it (GRANT todo_auditor TO alice_dba).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_auditor') THEN
        CREATE ROLE todo_auditor NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
END
$$;

CREATE SCHEMA audit;

CREATE TABLE audit.todo_changes (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at   timestamptz NOT NULL DEFAULT now(), -- the transaction's start
    user_id      text,                               -- app.user_id: who, per the verified JWT; NULL outside the API
    db_role      text        NOT NULL,               -- the role in effect (todo_app for the API)
    login_role   text        NOT NULL DEFAULT session_user,
    action       text        NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
    todo_id      uuid        NOT NULL,
    todo_user_id text        NOT NULL,               -- the row's owner
    before       jsonb,                              -- NULL for INSERT
    after        jsonb,                              -- NULL for DELETE
    txid         xid8        NOT NULL DEFAULT pg_current_xact_id(),
    request_id   text                                -- app.request_id: the API's X-Request-Id
);
CREATE INDEX todo_changes_todo_id_idx ON audit.todo_changes (todo_id, changed_at);
CREATE INDEX todo_changes_user_id_idx ON audit.todo_changes (user_id, changed_at);
CREATE INDEX todo_changes_changed_at_idx ON audit.todo_changes (changed_at);

-- Runs as the owner (SECURITY DEFINER) so that the caller needs no right on
-- the audit table; search_path is pinned so no caller can redirect a name.
CREATE FUNCTION audit.record_todo_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    acting_role text := current_setting('role');
BEGIN
    INSERT INTO audit.todo_changes
        (user_id, db_role, action, todo_id, todo_user_id, before, after, request_id)
    VALUES (
        NULLIF(current_setting('app.user_id', true), ''),
        CASE WHEN acting_role = 'none' THEN session_user ELSE acting_role END,
        TG_OP,
        CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
        CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END,
        CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END,
        CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END,
        NULLIF(current_setting('app.request_id', true), '')
    );
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION audit.record_todo_change() FROM PUBLIC;

CREATE TRIGGER todos_audit AFTER INSERT OR UPDATE OR DELETE ON todos
    FOR EACH ROW EXECUTE FUNCTION audit.record_todo_change();

-- Append-only even for the owner: RLS forced, and policies (policies/audit.sql)
-- allow only the trigger's INSERT and the auditor's SELECT.
ALTER TABLE audit.todo_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.todo_changes FORCE ROW LEVEL SECURITY;

GRANT USAGE ON SCHEMA public, audit TO todo_auditor;
GRANT SELECT ON todos, audit.todo_changes TO todo_auditor;
-- todo_app gets nothing in schema audit, not even USAGE.
