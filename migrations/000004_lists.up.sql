-- Shared lists. Every todo belongs to exactly one list; list_members says who
-- may do what there (owner, editor, viewer). Each person has a personal list,
-- made when first needed. The rules are the policies of policies/lists.sql,
-- list_members.sql, list_invitations.sql and todos.sql; this file makes the
-- tables, moves every existing todo into its owner's personal list, and adds
-- the helpers those policies call.

-- Helpers the policies call live in schema app, which holds no table: the API
-- reads and writes only public. todo_app may run exactly the functions granted
-- below.
CREATE SCHEMA app;
REVOKE ALL ON SCHEMA app FROM PUBLIC;
GRANT USAGE ON SCHEMA app TO todo_app, todo_auditor;

CREATE TABLE lists (
    id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200 AND name ~ '\S'),
    -- The user whose personal list this is (the default list of POST /v1/todos);
    -- NULL for every other list.
    personal_of text        UNIQUE CHECK (personal_of = created_by),
    created_by  text        NOT NULL CHECK (created_by <> '' AND octet_length(created_by) <= 255),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    version     bigint      NOT NULL DEFAULT 1
);
CREATE TRIGGER lists_touch_updated_at BEFORE UPDATE ON lists
    FOR EACH ROW EXECUTE FUNCTION todos_touch_updated_at();

CREATE TABLE list_members (
    list_id  uuid        NOT NULL REFERENCES lists ON DELETE CASCADE,
    user_id  text        NOT NULL CHECK (user_id <> '' AND octet_length(user_id) <= 255),
    role     text        NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
    added_by text        NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (list_id, user_id)
);
-- "Which lists am I in, as what": every membership check reads this index only.
CREATE INDEX list_members_user_id_idx ON list_members (user_id, list_id, role);

CREATE TABLE list_invitations (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    list_id    uuid        NOT NULL REFERENCES lists ON DELETE CASCADE,
    token_hash bytea       NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32), -- SHA-256 of the token
    role       text        NOT NULL CHECK (role IN ('editor', 'viewer')),
    max_uses   integer     NOT NULL CHECK (max_uses BETWEEN 1 AND 1000),
    uses       integer     NOT NULL DEFAULT 0 CHECK (uses BETWEEN 0 AND max_uses),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX list_invitations_list_id_idx ON list_invitations (list_id, created_at DESC, id DESC);

-- Every existing todo moves into its owner's personal list. The owner runs
-- this with row-level security not forced for the moment (it has no policy of
-- its own), and without the todo triggers: moving a row into a list changes
-- nothing a client sees, so neither its version (ETag) nor updated_at moves,
-- and the audit trail is not flooded with one row per todo.
ALTER TABLE todos NO FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;
ALTER TABLE todos DISABLE TRIGGER todos_touch_updated_at;
ALTER TABLE todos DISABLE TRIGGER todos_audit;

INSERT INTO lists (name, personal_of, created_by)
SELECT 'Personal', u, u FROM (SELECT user_id FROM todos UNION SELECT user_id FROM idempotency_keys) users(u);
INSERT INTO list_members (list_id, user_id, role, added_by)
SELECT id, personal_of, 'owner', personal_of FROM lists;

ALTER TABLE todos ADD COLUMN list_id uuid REFERENCES lists ON DELETE CASCADE;
UPDATE todos t SET list_id = l.id FROM lists l WHERE l.personal_of = t.user_id;
ALTER TABLE todos ALTER COLUMN list_id SET NOT NULL;
COMMENT ON COLUMN todos.user_id IS 'Who created the todo (the JWT subject). Who may see or change it is decided by list_id and list_members.';

ALTER TABLE todos ENABLE TRIGGER todos_touch_updated_at;
ALTER TABLE todos ENABLE TRIGGER todos_audit;
ALTER TABLE todos FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;

-- Keyset pagination within a list, for every sort; the policies filter on
-- list_id, so these serve both. The per-user indexes go: a todo is found by
-- its list now.
CREATE INDEX todos_list_id_created_at_idx ON todos (list_id, created_at DESC, id DESC);
CREATE INDEX todos_list_id_due_sort_idx ON todos (list_id, due_sort, id);
CREATE INDEX todos_list_id_title_idx ON todos (list_id, title, id);
DROP INDEX todos_user_id_created_at_idx;
DROP INDEX todos_user_id_due_sort_idx;
DROP INDEX todos_user_id_title_idx;

ALTER TABLE lists ENABLE ROW LEVEL SECURITY;
ALTER TABLE lists FORCE ROW LEVEL SECURITY;
ALTER TABLE list_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE list_members FORCE ROW LEVEL SECURITY;
ALTER TABLE list_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE list_invitations FORCE ROW LEVEL SECURITY;

-- The ids of the lists in which the current user (app.user_id) has one of
-- roles. Policies call it as list_id = ANY (ARRAY(SELECT app.my_lists(...))):
-- one index scan per statement, not one per row. It runs as its owner
-- (SECURITY DEFINER) so that a policy on list_members can use it without
-- recursing into itself; search_path is pinned so no caller can redirect a name.
-- It is VOLATILE so that it reads memberships with a fresh snapshot, which
-- includes what earlier parts of the same statement did: the personal list
-- that the insert trigger below makes for a person's first todo. Inside
-- ARRAY(SELECT ...) it is still an InitPlan, run once per statement. The ids
-- come sorted (free: list_members_user_id_idx yields them in order) because
-- each btree scan of todos by list_id = ANY (...) sorts the array again when
-- rescanned, once per list across all lists; sorted input is a single pass.
-- For a member of 500 lists, "newest 20 open todos across my lists" went from
-- 3.4x to 1.3x the same statement without row-level security
-- (db/sharing_plan_test.go).
CREATE FUNCTION app.my_lists(roles text[]) RETURNS SETOF uuid
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
    SELECT list_id FROM public.list_members
    WHERE user_id = NULLIF(current_setting('app.user_id', true), '') AND role = ANY (roles)
    ORDER BY list_id
$$;
REVOKE ALL ON FUNCTION app.my_lists(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.my_lists(text[]) TO todo_app;

-- Whoever creates a list is its first owner.
CREATE FUNCTION app.add_creator_as_owner() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    INSERT INTO public.list_members (list_id, user_id, role, added_by)
    VALUES (NEW.id, NEW.created_by, 'owner', NEW.created_by);
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.add_creator_as_owner() FROM PUBLIC;
CREATE TRIGGER lists_add_creator_as_owner AFTER INSERT ON lists
    FOR EACH ROW EXECUTE FUNCTION app.add_creator_as_owner();

-- A list always keeps an owner. Removals and demotions of owners of one list
-- queue on an advisory lock, and each then counts the owners with a fresh
-- snapshot (READ COMMITTED, a volatile function): of two concurrent removals
-- of the last two owners, the second sees the first and fails. SERIALIZABLE
-- fails one of them too (40001). REPEATABLE READ is refused: its snapshot
-- cannot see a removal committed after it began, so both would pass and leave
-- the list without an owner. Deleting the whole list (the members go by
-- cascade) is not refused.
CREATE FUNCTION app.keep_an_owner() RETURNS trigger
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
    IF NOT EXISTS (SELECT FROM public.list_members WHERE list_id = OLD.list_id AND role = 'owner') THEN
        RAISE EXCEPTION 'a list must keep at least one owner' USING ERRCODE = 'TD001';
    END IF;
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION app.keep_an_owner() FROM PUBLIC;
CREATE TRIGGER list_members_keep_an_owner AFTER UPDATE OR DELETE ON list_members
    FOR EACH ROW WHEN (OLD.role = 'owner') EXECUTE FUNCTION app.keep_an_owner();

-- Accepting an invitation: the invitee is not a member yet, so no policy lets
-- them see the invitation. This function is that rule, in one place: a token
-- (by its hash) that is not revoked, expired or used up makes the current user
-- a member with the invitation's role and uses it once. A member already in the
-- list keeps their role and uses nothing. An invitation speaks for the owner
-- who made it: once they are no longer an owner (removed, left or demoted) it
-- admits no one, as if revoked; else a removed owner could rejoin by their own
-- link. The answer says which case it was; no row means no such invitation.
CREATE FUNCTION app.accept_invitation(hash bytea)
    RETURNS TABLE (list_id uuid, role text, outcome text)
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    me  text := NULLIF(current_setting('app.user_id', true), '');
    inv public.list_invitations;
BEGIN
    IF me IS NULL THEN
        RETURN;
    END IF;
    SELECT * INTO inv FROM public.list_invitations i WHERE i.token_hash = hash FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    list_id := inv.list_id;
    SELECT m.role INTO role FROM public.list_members m WHERE m.list_id = inv.list_id AND m.user_id = me;
    IF FOUND THEN
        outcome := 'member';
    ELSIF inv.revoked_at IS NOT NULL
          OR NOT EXISTS (SELECT FROM public.list_members o
                         WHERE o.list_id = inv.list_id AND o.user_id = inv.created_by AND o.role = 'owner') THEN
        outcome := 'revoked';
    ELSIF inv.expires_at <= now() THEN
        outcome := 'expired';
    ELSIF inv.uses >= inv.max_uses THEN
        outcome := 'used_up';
    ELSE
        UPDATE public.list_invitations SET uses = uses + 1 WHERE id = inv.id;
        INSERT INTO public.list_members (list_id, user_id, role, added_by)
        VALUES (inv.list_id, me, inv.role, inv.created_by);
        role := inv.role;
        outcome := 'joined';
    END IF;
    IF outcome NOT IN ('member', 'joined') THEN
        role := NULL;
    END IF;
    RETURN NEXT;
END
$$;
REVOKE ALL ON FUNCTION app.accept_invitation(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.accept_invitation(bytea) TO todo_app;

-- The audit trail of sharing: lists, memberships and invitations, who did it
-- (app.user_id) and the row before and after. Invitation token hashes are
-- left out. Append-only, like audit.todo_changes.
CREATE TABLE audit.list_changes (
    id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    user_id    text,                       -- app.user_id: who, per the verified JWT; NULL outside the API
    db_role    text        NOT NULL,
    login_role text        NOT NULL DEFAULT session_user,
    action     text        NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
    table_name text        NOT NULL CHECK (table_name IN ('lists', 'list_members', 'list_invitations')),
    list_id    uuid        NOT NULL,
    before     jsonb,
    after      jsonb,
    txid       xid8        NOT NULL DEFAULT pg_current_xact_id(),
    request_id text
);
CREATE INDEX list_changes_list_id_idx ON audit.list_changes (list_id, changed_at);
CREATE INDEX list_changes_user_id_idx ON audit.list_changes (user_id, changed_at);

CREATE FUNCTION audit.record_list_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    acting_role text := current_setting('role');
    old_row     jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) - 'token_hash' END;
    new_row     jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) - 'token_hash' END;
BEGIN
    INSERT INTO audit.list_changes
        (user_id, db_role, action, table_name, list_id, before, after, request_id)
    VALUES (
        NULLIF(current_setting('app.user_id', true), ''),
        CASE WHEN acting_role = 'none' THEN session_user ELSE acting_role END,
        TG_OP,
        TG_TABLE_NAME,
        (COALESCE(new_row, old_row) ->> CASE WHEN TG_TABLE_NAME = 'lists' THEN 'id' ELSE 'list_id' END)::uuid,
        old_row,
        new_row,
        NULLIF(current_setting('app.request_id', true), '')
    );
    RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION audit.record_list_change() FROM PUBLIC;
CREATE TRIGGER lists_audit AFTER INSERT OR UPDATE OR DELETE ON lists
    FOR EACH ROW EXECUTE FUNCTION audit.record_list_change();
CREATE TRIGGER list_members_audit AFTER INSERT OR UPDATE OR DELETE ON list_members
    FOR EACH ROW EXECUTE FUNCTION audit.record_list_change();
CREATE TRIGGER list_invitations_audit AFTER INSERT OR UPDATE OR DELETE ON list_invitations
    FOR EACH ROW EXECUTE FUNCTION audit.record_list_change();
ALTER TABLE audit.list_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit.list_changes FORCE ROW LEVEL SECURITY;

-- Exact grants: the API writes only what a client controls.
GRANT SELECT, DELETE ON lists TO todo_app;
GRANT INSERT (id, name, personal_of, created_by) ON lists TO todo_app;
GRANT UPDATE (name) ON lists TO todo_app;
GRANT SELECT, DELETE ON list_members TO todo_app;
GRANT INSERT (list_id, user_id, role, added_by) ON list_members TO todo_app;
GRANT UPDATE (role) ON list_members TO todo_app;
GRANT SELECT ON list_invitations TO todo_app;
GRANT INSERT (list_id, token_hash, role, max_uses, expires_at, created_by) ON list_invitations TO todo_app;
GRANT UPDATE (revoked_at) ON list_invitations TO todo_app;
GRANT INSERT (list_id) ON todos TO todo_app;
GRANT SELECT ON lists, list_members, list_invitations, audit.list_changes TO todo_auditor;

-- Every person has a personal list, made when first needed: the list a todo
-- goes into when none is named. app.personal_list makes it as the owner (so
-- that ON CONFLICT may look at lists the caller cannot see); it is called by
-- the trigger below and granted to no one.
CREATE FUNCTION app.personal_list(owner text) RETURNS uuid
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
DECLARE
    list uuid;
BEGIN
    IF owner IS NULL OR owner = '' THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.lists (name, personal_of, created_by) VALUES ('Personal', owner, owner)
    ON CONFLICT (personal_of) DO NOTHING;
    SELECT id INTO list FROM public.lists WHERE personal_of = owner;
    RETURN list;
END
$$;
REVOKE ALL ON FUNCTION app.personal_list(text) FROM PUBLIC;

-- A todo written without a list goes into its creator's personal list, for
-- plain SQL as for the API. This runs before the insert policy's check, which
-- still requires the creator to be the caller and the list one they may
-- write in; a refused insert rolls a list made here back with it.
CREATE FUNCTION app.default_to_personal_list() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
BEGIN
    IF NEW.list_id IS NULL THEN
        NEW.list_id := app.personal_list(NEW.user_id);
    END IF;
    RETURN NEW;
END
$$;
REVOKE ALL ON FUNCTION app.default_to_personal_list() FROM PUBLIC;
CREATE TRIGGER todos_default_to_personal_list BEFORE INSERT ON todos
    FOR EACH ROW EXECUTE FUNCTION app.default_to_personal_list();
