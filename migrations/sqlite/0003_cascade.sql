-- The cascade: each evaluation's path (domain, decisions, cost per tier, review request), the
-- expert review queue (Tier 4), and running cost totals per organization, day, domain and tier.

ALTER TABLE evaluations ADD COLUMN details TEXT NOT NULL DEFAULT '{}';

CREATE TABLE review_queue (
    org_id      TEXT NOT NULL,
    trace_id    TEXT NOT NULL,
    domain      TEXT NOT NULL,
    reason      TEXT NOT NULL,
    priority    REAL NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, trace_id)
);
CREATE INDEX review_queue_by_priority ON review_queue (org_id, domain, priority DESC, created_at);

-- Written in the transaction that records the evaluations, so totals always equal the sum of
-- the recorded module costs. `day` is the UTC date of the evaluation; `domain` is '' for none.
CREATE TABLE cost_totals (
    org_id     TEXT NOT NULL,
    day        TEXT NOT NULL,
    domain     TEXT NOT NULL,
    tier       INTEGER NOT NULL,
    micro_usd  INTEGER NOT NULL,
    runs       INTEGER NOT NULL,
    PRIMARY KEY (org_id, day, domain, tier)
);
