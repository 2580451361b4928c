-- Full-text search over the de-identified input and output. Filled when a trace's evaluation is
-- recorded, so tokenizing never slows ingest; a trace is searchable once it is evaluated.
-- The 'simple' configuration (no stemming, no stop words) matches SQLite's tokenizer: a search
-- finds the same traces on either database.
ALTER TABLE traces ADD COLUMN search tsvector;
CREATE INDEX traces_search ON traces USING GIN (search);

UPDATE traces SET search = to_tsvector('simple', input || ' ' || output) WHERE status <> 'queued';
