-- Back to one owner per todo: every todo stays with its creator (user_id);
-- lists, memberships and invitations go, and so does their audit trail.
-- Policies that name the dropped tables or functions go first; `todoapi
-- migrate up` re-applies policies/ after migrating, and an older build applies
-- its own.
DROP POLICY IF EXISTS todos_select_member ON todos;
DROP POLICY IF EXISTS todos_insert_editor ON todos;
DROP POLICY IF EXISTS todos_update_editor ON todos;
DROP POLICY IF EXISTS todos_delete_editor ON todos;
DROP TRIGGER todos_default_to_personal_list ON todos;
CREATE INDEX todos_user_id_created_at_idx ON todos (user_id, created_at DESC, id DESC);
CREATE INDEX todos_user_id_due_sort_idx ON todos (user_id, due_sort, id);
CREATE INDEX todos_user_id_title_idx ON todos (user_id, title, id);
ALTER TABLE todos DROP COLUMN list_id;
DROP TABLE audit.list_changes;
DROP TABLE list_invitations, list_members, lists;
DROP FUNCTION audit.record_list_change();
DROP SCHEMA app CASCADE;
-- The v3 policies, so that the schema is usable as v3 right away.
CREATE POLICY todos_select_own ON todos FOR SELECT TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''));
CREATE POLICY todos_insert_own ON todos FOR INSERT TO todo_app
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));
CREATE POLICY todos_update_own ON todos FOR UPDATE TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''))
    WITH CHECK (user_id = NULLIF(current_setting('app.user_id', true), ''));
CREATE POLICY todos_delete_own ON todos FOR DELETE TO todo_app
    USING (user_id = NULLIF(current_setting('app.user_id', true), ''));
