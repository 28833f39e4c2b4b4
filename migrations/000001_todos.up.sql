-- The role the API acts as inside every request transaction. It cannot log in,
-- owns nothing and never bypasses row-level security. Roles are cluster-wide,
-- so it may already exist (another database of the same server).
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'todo_app') THEN
        CREATE ROLE todo_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
    END IF;
END
$$;

CREATE TABLE todos (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     text        NOT NULL CHECK (user_id <> '' AND octet_length(user_id) <= 255),
    title       text        NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500 AND title ~ '\S'),
    description text        NOT NULL DEFAULT '' CHECK (char_length(description) <= 10000),
    completed   boolean     NOT NULL DEFAULT false,
    due_at      timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- "My todos, newest first": the list query and every policy filter on user_id.
CREATE INDEX todos_user_id_created_at_idx ON todos (user_id, created_at DESC, id DESC);

-- updated_at is the server's, whoever writes the row.
CREATE FUNCTION todos_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE TRIGGER todos_touch_updated_at BEFORE UPDATE ON todos
    FOR EACH ROW EXECUTE FUNCTION todos_touch_updated_at();

-- Row-level security: enabled, and forced so that even the owner obeys it.
-- The policies themselves live in policies/todos.sql.
ALTER TABLE todos ENABLE ROW LEVEL SECURITY;
ALTER TABLE todos FORCE ROW LEVEL SECURITY;

-- Exact grants: the API may write only the columns a client controls.
GRANT USAGE ON SCHEMA public TO todo_app;
GRANT SELECT, DELETE ON todos TO todo_app;
GRANT INSERT (user_id, title, description, completed, due_at) ON todos TO todo_app;
GRANT UPDATE (title, description, completed, due_at) ON todos TO todo_app;
-- Readiness checks the schema version as todo_app.
GRANT SELECT ON schema_migrations TO todo_app;
