-- Who may see and change which rows of todos.
--
-- The API acts as role todo_app and, inside each request's transaction, sets
-- app.user_id to the verified JWT subject (set_config(..., true): it ends with
-- the transaction). A missing or empty app.user_id matches no row at all.
-- No other role has a policy, so with FORCE ROW LEVEL SECURITY every other
-- role, the table owner included, sees and changes nothing.

CREATE POLICY todos_select_own ON todos
    FOR SELECT TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY todos_insert_own ON todos
    FOR INSERT TO todo_app
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));

-- WITH CHECK keeps an updated row with its owner: no moving rows to another user.
CREATE POLICY todos_update_own ON todos
    FOR UPDATE TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''))
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY todos_delete_own ON todos
    FOR DELETE TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''));

-- DBAs auditing with role todo_auditor read every row (and change none: the
-- role has only SELECT, and no other policy names it).
CREATE POLICY todos_auditor_read ON todos
    FOR SELECT TO todo_auditor
    USING (true);
