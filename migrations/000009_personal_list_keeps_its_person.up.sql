-- A personal list keeps its person as an owner. They may share it, and make
-- others owners too, but nobody (themselves included) may remove or demote
-- them: their todos without a list go there (app.default_to_personal_list),
-- and a person no longer in it could never create one again. The same
-- trigger as the last-owner rule (list_members_keep_an_owner), one more
-- check, its own SQLSTATE (TD002: db/db.go). Deleting the whole list is not
-- refused.
CREATE OR REPLACE FUNCTION app.keep_an_owner() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    PERFORM pg_advisory_xact_lock(7033, hashtext(OLD.list_id::text));
    IF NOT EXISTS (SELECT FROM public.lists WHERE id = OLD.list_id) THEN
        RETURN NULL;
    END IF;
    IF current_setting('transaction_isolation') = 'repeatable read' THEN
        RAISE EXCEPTION 'list owners are removed or demoted only in READ COMMITTED or SERIALIZABLE transactions'
            USING ERRCODE = '0A000';
    END IF;
    IF EXISTS (SELECT FROM public.lists WHERE id = OLD.list_id AND personal_of = OLD.user_id)
       AND NOT EXISTS (SELECT FROM public.list_members WHERE list_id = OLD.list_id AND user_id = OLD.user_id AND role = 'owner') THEN
        RAISE EXCEPTION 'a personal list keeps its person as an owner' USING ERRCODE = 'TD002';
    END IF;
    IF NOT EXISTS (SELECT FROM public.list_members WHERE list_id = OLD.list_id AND role = 'owner') THEN
        RAISE EXCEPTION 'a list must keep at least one owner' USING ERRCODE = 'TD001';
    END IF;
    RETURN NULL;
END
$$;

-- Heal what the rule would have prevented: a person already removed from
-- their own personal list is its owner again. added_by names this migration,
-- so the membership events go out (member.added: the person's client, told of
-- their removal, learns the list is back; a list's creator adding
-- themselves would send none).
INSERT INTO list_members (list_id, user_id, role, added_by)
SELECT l.id, l.personal_of, 'owner', 'migration 000009' FROM lists l
WHERE l.personal_of IS NOT NULL
  AND NOT EXISTS (SELECT FROM list_members m WHERE m.list_id = l.id AND m.user_id = l.personal_of)
ON CONFLICT (list_id, user_id) DO NOTHING;
-- The owner updates memberships only here (row-level security is forced on
-- list_members and no policy lets it otherwise): a policy for this statement.
CREATE POLICY list_members_heal_personal ON list_members FOR UPDATE TO CURRENT_USER USING (true);
UPDATE list_members m SET role = 'owner' FROM lists l
WHERE l.id = m.list_id AND l.personal_of = m.user_id AND m.role <> 'owner';
DROP POLICY list_members_heal_personal ON list_members;
