-- Who may see and change which rows of todos.
--
-- The API acts as role todo_app and, inside each request's transaction, sets
-- app.user_id to the verified JWT subject (set_config(..., true): it ends with
-- the transaction). A todo belongs to a list; list_members says who is in it:
-- every member sees its todos, owners and editors change them. app.my_lists()
-- (migrations/000004_lists.up.sql, rewritten by 000007_across_lists) reads the caller's memberships;
-- a missing or empty app.user_id has no memberships, so it matches no row.
-- No other role has a policy, so with FORCE ROW LEVEL SECURITY every other
-- role, the table owner included, sees and changes nothing.
--
-- Unlike the policies of lists, members and invitations (list_id = ANY
-- (ARRAY(SELECT ...))), these are list_id IN (SELECT app.my_lists(...)): a
-- hashed SubPlan. Postgres runs the lookup once per statement into a hash
-- table, and each row of todos costs one probe of it. The array form would be
-- a condition of the index scan, which the API's own queries do not need
-- (each names its lists or ids itself: db/todo.go), and which PostgreSQL 15
-- prepares again, all 500 elements of it, each time a scan is rescanned:
-- once per list when a member of 500 lists pages across all of them.
CREATE POLICY todos_select_member ON todos
    FOR SELECT TO todo_app
    USING (list_id IN (SELECT app.my_lists('{owner,editor,viewer}')));

-- The creator is the caller, and the list one they may write in.
CREATE POLICY todos_insert_editor ON todos
    FOR INSERT TO todo_app
    WITH CHECK (list_id IN (SELECT app.my_lists('{owner,editor}'))
                AND user_id = NULLIF(current_setting('app.user_id', true), ''));

-- list_id cannot be updated at all (no column grant); WITH CHECK still keeps
-- an updated row in a list the caller may write in.
CREATE POLICY todos_update_editor ON todos
    FOR UPDATE TO todo_app
    USING (list_id IN (SELECT app.my_lists('{owner,editor}')))
    WITH CHECK (list_id IN (SELECT app.my_lists('{owner,editor}')));

CREATE POLICY todos_delete_editor ON todos
    FOR DELETE TO todo_app
    USING (list_id IN (SELECT app.my_lists('{owner,editor}')));

-- DBAs auditing with role todo_auditor read every row (and change none: the
-- role has only SELECT, and no other policy names it).
CREATE POLICY todos_auditor_read ON todos
    FOR SELECT TO todo_auditor
    USING (true);
