-- SQLite indexes the filters of a search as full-text tokens (its 0008); on PostgreSQL the
-- planner combines the GIN index with the column indexes by itself. This keeps the two
-- migration histories in step.
SELECT 1;
