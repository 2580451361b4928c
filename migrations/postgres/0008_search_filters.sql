-- Search with filters at scale. Beside the words of the input and output, each evaluated
-- trace's status, severity, domain and application are indexed as lexemes of its `search`
-- vector (a prefix and the value in hex: `zs…`, `zv…`, `zd…`, `za…`), so one GIN lookup
-- narrows to exactly the filtered set, and the planner can see how small it is.
-- The expression is `POSTGRES_SEARCH_TAGS` in core/src/store/traces.rs; keep the two the same.
UPDATE traces SET search = to_tsvector('simple', input || ' ' || output) || to_tsvector('simple',
    'zs' || encode(convert_to(status, 'UTF8'), 'hex')
    || ' zv' || encode(convert_to(coalesce(severity, 'none'), 'UTF8'), 'hex')
    || ' zd' || encode(convert_to(coalesce(domain, ''), 'UTF8'), 'hex')
    || ' za' || encode(convert_to(application_id, 'UTF8'), 'hex'))
WHERE status <> 'queued';

ANALYZE traces;
