-- Who may see and change which memberships.
--
-- Members see who else is in their lists. Owners add members, change roles
-- and remove members; anyone may remove themselves (leave). A list always
-- keeps an owner: app.keep_an_owner (migrations/000004_lists.up.sql) refuses the removal
-- or demotion of the last one, under concurrency too. The membership checks go
-- through app.my_lists(), which runs as the table owner: a policy on
-- list_members that read list_members itself would recurse.

CREATE POLICY list_members_select_member ON list_members
    FOR SELECT TO todo_app
    USING (list_id = ANY (ARRAY(SELECT app.my_lists('{owner,editor,viewer}'))));

CREATE POLICY list_members_insert_owner ON list_members
    FOR INSERT TO todo_app
    WITH CHECK (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}')))
                AND added_by = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY list_members_update_owner ON list_members
    FOR UPDATE TO todo_app
    USING (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}'))))
    WITH CHECK (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}'))));

CREATE POLICY list_members_delete_owner_or_self ON list_members
    FOR DELETE TO todo_app
    USING (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}')))
           OR user_id = NULLIF(current_setting('app.user_id', true), ''));

-- The table owner's own functions (SECURITY DEFINER: app.my_lists, the first
-- owner of a new list, accepting an invitation, the last-owner check).
CREATE POLICY list_members_definer_select ON list_members
    FOR SELECT TO CURRENT_USER   -- the owner, who applies these files
    USING (true);
CREATE POLICY list_members_definer_insert ON list_members
    FOR INSERT TO CURRENT_USER   -- the owner, who applies these files
    WITH CHECK (true);

CREATE POLICY list_members_auditor_read ON list_members
    FOR SELECT TO todo_auditor
    USING (true);
