REVOKE ALL ON schema_migrations FROM todo_app;
DROP TABLE todos;
DROP FUNCTION todos_touch_updated_at();
REVOKE USAGE ON SCHEMA public FROM todo_app;
-- The role is cluster-wide and may serve other databases: it is left in place.
