-- compose.yaml only, run once when the volume is new: the role requests act
-- as (the first migration would create it too) and the API's login role,
-- which may do nothing but switch to it.
CREATE ROLE todo_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE ROLE todo_api LOGIN PASSWORD 'todo_api' IN ROLE todo_app;
-- Least privilege: PUBLIC may neither connect nor create temporary objects;
-- the API's login role may connect to its own database only.
REVOKE ALL ON DATABASE todo FROM PUBLIC;
GRANT CONNECT ON DATABASE todo TO todo_api;
REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
