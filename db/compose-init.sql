-- compose.yaml only: run once by the postgres image, as its superuser in
-- database todo, when the volume is new. The roles of the README's "Operating
-- it": the schema owner, which runs `todoapi migrate up` and owns the database;
-- todo_app, the role requests act as (created here so that it can be granted
-- before the first migration, which then leaves it as it is); and the API's
-- login role, which may do nothing but switch to todo_app.
CREATE ROLE todo_owner LOGIN PASSWORD 'todo_owner' CREATEROLE;
ALTER DATABASE todo OWNER TO todo_owner;
CREATE ROLE todo_app NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION;
CREATE ROLE todo_api LOGIN PASSWORD 'todo_api' IN ROLE todo_app;
-- Least privilege: PUBLIC may neither connect nor create temporary objects;
-- the API's login role may connect to its own database only.
REVOKE ALL ON DATABASE todo FROM PUBLIC;
GRANT CONNECT ON DATABASE todo TO todo_api;
REVOKE ALL ON DATABASE postgres, template1 FROM PUBLIC;
