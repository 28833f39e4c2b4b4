-- Cleared due dates stay cleared: the values were never readable.
ALTER TABLE todos DROP CONSTRAINT todos_due_at_range;
