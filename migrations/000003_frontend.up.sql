-- What a web frontend needs: a row version for ETags, indexes for every sort
-- the list offers (keyset pagination), and idempotency keys for safe retries.

-- version: 1 on insert, +1 on every update (by the trigger, not the client).
ALTER TABLE todos ADD COLUMN version bigint NOT NULL DEFAULT 1;

CREATE OR REPLACE FUNCTION todos_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

-- Keyset pagination: one index per sort key, each led by user_id. Each serves
-- both directions. Undated todos sort as due at 'infinity'; that key is a
-- stored column, as Postgres uses a row comparison (key, id) > (k, i) as an
-- index condition only on plain columns.
ALTER TABLE todos ADD COLUMN due_sort timestamptz NOT NULL
    GENERATED ALWAYS AS (COALESCE(due_at, 'infinity'::timestamptz)) STORED;
CREATE INDEX todos_user_id_due_sort_idx ON todos (user_id, due_sort, id);
CREATE INDEX todos_user_id_title_idx ON todos (user_id, title, id);

-- A client's Idempotency-Key and the response it got, for 24 hours.
CREATE TABLE idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL,
    response     jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_at_idx ON idempotency_keys (user_id, created_at);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
GRANT SELECT, DELETE ON idempotency_keys TO todo_app;
GRANT INSERT (user_id, key, request_hash, response) ON idempotency_keys TO todo_app;
