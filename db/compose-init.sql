-- compose.yaml only, run once when the volume is new: the role requests act
-- as (the first migration would create it too) and the API's login role,
-- which may do nothing but switch to it.
CREATE ROLE todo_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE ROLE todo_api LOGIN PASSWORD 'todo_api' IN ROLE todo_app;
