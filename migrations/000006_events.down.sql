DROP TRIGGER todos_events ON todos;
DROP FUNCTION app.record_todo_event();
DROP FUNCTION app.event_changes(xid8, bigint);
DROP FUNCTION app.event_horizon();
DROP FUNCTION app.prune_events(interval);
DROP FUNCTION app.redeem_event_ticket(bytea);
DROP TABLE events, event_horizon, event_tickets;
-- Schema app stays if shared lists keep helpers there.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_proc WHERE pronamespace = 'app'::regnamespace)
       AND NOT EXISTS (SELECT FROM pg_class WHERE relnamespace = 'app'::regnamespace) THEN
        DROP SCHEMA app;
    END IF;
END
$$;
