-- Members see a list's whole retained history again. The policy that calls
-- app.my_joinings and app.my_latest_joining goes first, replaced by the v7 one, so that the schema is
-- usable as v7 right away; `todoapi migrate up` re-applies policies/.
DROP POLICY IF EXISTS events_select_member ON events;
CREATE POLICY events_select_member ON events
    FOR SELECT TO todo_app
    USING (list_id = ANY (ARRAY(SELECT app.my_lists('{owner,editor,viewer}')))
           OR member_id = NULLIF(current_setting('app.user_id', true), ''));
DROP FUNCTION app.my_joinings(), app.my_latest_joining();
ALTER TABLE list_members DROP COLUMN joined_snapshot, DROP COLUMN joined_txid;
