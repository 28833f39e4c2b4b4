-- app.my_lists as migration 000004 made it (SQL), and no index of open todos.
CREATE OR REPLACE FUNCTION app.my_lists(roles text[]) RETURNS SETOF uuid
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS
$$
    SELECT list_id FROM public.list_members
    WHERE user_id = NULLIF(current_setting('app.user_id', true), '') AND role = ANY (roles)
    ORDER BY list_id
$$;
DROP INDEX todos_list_id_open_created_at_idx;
