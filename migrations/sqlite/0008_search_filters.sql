-- Search with filters at scale. Beside the words of the input and output, each evaluated
-- trace's status, severity, domain and application are indexed as tokens of a `tags` column
-- (a prefix and the value in hex: `zs…`, `zv…`, `zd…`, `za…`), so one full-text query narrows
-- to exactly the filtered set before any trace row is read. The expression is
-- `SQLITE_SEARCH_TAGS` in core/src/store/traces.rs; keep the two the same.
DROP TABLE trace_search;

CREATE VIRTUAL TABLE trace_search USING fts5(
    input, output, tags,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

INSERT INTO trace_search (rowid, input, output, tags)
SELECT rowid, input, output,
       'zs' || hex(status) || ' zv' || hex(coalesce(severity, 'none'))
       || ' zd' || hex(coalesce(domain, '')) || ' za' || hex(application_id)
FROM traces WHERE status <> 'queued';
