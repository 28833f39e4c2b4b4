-- Only the last-owner rule again (as migration 000004 made it). Memberships
-- restored by the up migration stay: they are ordinary owners.
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
    IF NOT EXISTS (SELECT FROM public.list_members WHERE list_id = OLD.list_id AND role = 'owner') THEN
        RAISE EXCEPTION 'a list must keep at least one owner' USING ERRCODE = 'TD001';
    END IF;
    RETURN NULL;
END
$$;
