-- Who may see and change which lists.
--
-- A list is visible to its members; only owners rename or delete it. Anyone
-- may create a list, as its creator; the creator becomes its first owner (the
-- trigger app.add_creator_as_owner, migrations/000004_lists.up.sql). A personal list
-- (personal_of) can only be the caller's own.

CREATE POLICY lists_select_member ON lists
    FOR SELECT TO todo_app
    USING (id = ANY (ARRAY(SELECT app.my_lists('{owner,editor,viewer}'))));

CREATE POLICY lists_insert_creator ON lists
    FOR INSERT TO todo_app
    WITH CHECK (created_by = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY lists_update_owner ON lists
    FOR UPDATE TO todo_app
    USING (id = ANY (ARRAY(SELECT app.my_lists('{owner}'))))
    WITH CHECK (id = ANY (ARRAY(SELECT app.my_lists('{owner}'))));

-- Deleting a list deletes its todos, members and invitations with it.
CREATE POLICY lists_delete_owner ON lists
    FOR DELETE TO todo_app
    USING (id = ANY (ARRAY(SELECT app.my_lists('{owner}'))));

-- The table owner's own functions (SECURITY DEFINER: a personal list made on
-- first use, the last-owner check) read and create lists as the owner.
CREATE POLICY lists_definer_select ON lists
    FOR SELECT TO CURRENT_USER   -- the owner, who applies these files
    USING (true);
CREATE POLICY lists_definer_insert ON lists
    FOR INSERT TO CURRENT_USER   -- the owner, who applies these files
    WITH CHECK (true);

CREATE POLICY lists_auditor_read ON lists
    FOR SELECT TO todo_auditor
    USING (true);
