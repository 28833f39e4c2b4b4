DROP TABLE idempotency_keys;
DROP INDEX todos_user_id_title_idx;
DROP INDEX todos_user_id_due_at_idx;
CREATE OR REPLACE FUNCTION todos_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql AS
$$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
ALTER TABLE todos DROP COLUMN version;
