-- Who may see and change which invitations.
--
-- Only a list's owners see, create and revoke its invitations (revoking sets
-- revoked_at: the only column todo_app may update). The invitee, not yet a
-- member, sees none: accepting goes through app.accept_invitation
-- (migrations/000004_lists.up.sql), which takes the token's hash and is the whole rule for
-- joining by invitation.

CREATE POLICY list_invitations_select_owner ON list_invitations
    FOR SELECT TO todo_app
    USING (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}'))));

CREATE POLICY list_invitations_insert_owner ON list_invitations
    FOR INSERT TO todo_app
    WITH CHECK (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}')))
                AND created_by = NULLIF(current_setting('app.user_id', true), ''));

CREATE POLICY list_invitations_update_owner ON list_invitations
    FOR UPDATE TO todo_app
    USING (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}'))))
    WITH CHECK (list_id = ANY (ARRAY(SELECT app.my_lists('{owner}'))));

-- The table owner's own function app.accept_invitation.
CREATE POLICY list_invitations_definer_select ON list_invitations
    FOR SELECT TO CURRENT_USER   -- the owner, who applies these files
    USING (true);
CREATE POLICY list_invitations_definer_update ON list_invitations
    FOR UPDATE TO CURRENT_USER   -- the owner, who applies these files
    USING (true) WITH CHECK (true);

CREATE POLICY list_invitations_auditor_read ON list_invitations
    FOR SELECT TO todo_auditor
    USING (true);
