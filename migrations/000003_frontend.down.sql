DROP TABLE idempotency_keys;
DROP INDEX todos_user_id_title_idx;
ALTER TABLE todos DROP COLUMN due_sort;
CREATE OR REPLACE FUNCTION todos_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
ALTER TABLE todos DROP COLUMN version;
