-- A due date must be one that Postgres and JSON can both give back: years
-- 0001 to 9999 in UTC (internal/todo.CheckDueAt is the same rule in the API).
-- Before this rule, the API stored instants outside that range, which no
-- response could then carry: such a due date is cleared (NULL, "no due
-- date"), not clamped, as a date moved to year 1 or 9999 would be one the
-- user never gave. The change goes through the triggers like any other: the
-- todo's version (ETag) and updated_at move on, and the audit trail records
-- it with request_id 'migration 000005_due_at_range'. A stored idempotent
-- response for such a todo is made to match, so a replay is readable too.

SELECT set_config('app.request_id', 'migration 000005_due_at_range', true);

-- The owner obeys the policies too (FORCE): lift that for this transaction
-- only; nothing outside it sees the difference.
ALTER TABLE todos NO FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;

UPDATE todos SET due_at = NULL
WHERE due_at < '0001-01-01 00:00:00+00' OR due_at >= '10000-01-01 00:00:00+00';

UPDATE idempotency_keys SET response = jsonb_set(response, '{due_at}', 'null')
WHERE jsonb_typeof(response->'due_at') = 'string'
  AND ((response->>'due_at')::timestamptz < '0001-01-01 00:00:00+00'
    OR (response->>'due_at')::timestamptz >= '10000-01-01 00:00:00+00');

ALTER TABLE todos FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;

ALTER TABLE todos ADD CONSTRAINT todos_due_at_range
    CHECK (due_at >= '0001-01-01 00:00:00+00' AND due_at < '10000-01-01 00:00:00+00');
