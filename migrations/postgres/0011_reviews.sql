-- Expert reviews: the human verdicts, kept as each trace's history.
CREATE TABLE reviews (
    id                TEXT PRIMARY KEY,
    org_id            TEXT NOT NULL,
    trace_id          TEXT NOT NULL,
    reviewer          TEXT NOT NULL,   -- user:<email> or api_key:<id>
    label             TEXT NOT NULL,   -- safe | unsafe
    severity          TEXT,
    issues            TEXT NOT NULL,   -- JSON array of tags
    notes             TEXT NOT NULL,   -- de-identified
    corrected_output  TEXT,            -- de-identified
    domain            TEXT NOT NULL,   -- '' for none
    created_at        BIGINT NOT NULL
);
CREATE INDEX reviews_by_trace ON reviews (org_id, trace_id, created_at);
CREATE INDEX reviews_by_reviewer ON reviews (org_id, reviewer, created_at);

-- Most traces need one review; a share gets a second, by someone else, to measure agreement.
ALTER TABLE review_queue ADD COLUMN reviews_needed BIGINT NOT NULL DEFAULT 1;
