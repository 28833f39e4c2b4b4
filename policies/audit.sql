-- Who may see and write the audit trail, audit.todo_changes.
--
-- Rows are only ever added, by the trigger function audit.record_todo_change(),
-- which runs as the owner (SECURITY DEFINER). With FORCE ROW LEVEL SECURITY
-- and no UPDATE or DELETE policy, not even the owner can change or remove a
-- row with DML. todo_app has no policy here and no privilege on schema audit.

CREATE POLICY todo_changes_insert_by_trigger ON audit.todo_changes
    FOR INSERT TO CURRENT_USER   -- the owner, who applies these files
    WITH CHECK (true);

CREATE POLICY todo_changes_auditor_read ON audit.todo_changes
    FOR SELECT TO todo_auditor
    USING (true);

-- audit.list_changes, the trail of lists, memberships and invitations, is kept
-- the same way by audit.record_list_change().
CREATE POLICY list_changes_insert_by_trigger ON audit.list_changes
    FOR INSERT TO CURRENT_USER   -- the owner, who applies these files
    WITH CHECK (true);

CREATE POLICY list_changes_auditor_read ON audit.list_changes
    FOR SELECT TO todo_auditor
    USING (true);
