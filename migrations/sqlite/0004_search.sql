-- Full-text search over the de-identified input and output. Filled when a trace's evaluation is
-- recorded, so tokenizing never slows ingest; a trace is searchable once it is evaluated.
-- Contentless: the text stays in `traces`; the index maps words to traces' rowids.
CREATE VIRTUAL TABLE trace_search USING fts5(
    input, output,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO trace_search (rowid, input, output)
SELECT rowid, input, output FROM traces WHERE status <> 'queued';
