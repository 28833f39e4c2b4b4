-- Who may see and use which idempotency keys: like todos, only your own.
-- A key is scoped to the user, so two people may use the same key.

CREATE POLICY idempotency_keys_select_own ON idempotency_keys
    FOR SELECT TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY idempotency_keys_insert_own ON idempotency_keys
    FOR INSERT TO todo_app
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY idempotency_keys_delete_own ON idempotency_keys
    FOR DELETE TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''));
