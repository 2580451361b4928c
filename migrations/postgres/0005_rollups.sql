-- Rollups per organization, domain and UTC hour, written in the transaction that records the
-- evaluations, so the Overview and Analytics read a few rows per hour instead of every trace.
-- `hour` is the start of the hour in microseconds since the epoch; `domain` is '' for none.
-- They replace `cost_totals`: cost per tier is now kept per hour. Existing evaluations are
-- rolled up once by the application after this migration (`Store::migrate`).

CREATE TABLE rollup_hours (
    org_id          TEXT NOT NULL,
    hour            BIGINT NOT NULL,
    domain          TEXT NOT NULL,
    pass            BIGINT NOT NULL,
    fail            BIGINT NOT NULL,
    needs_review    BIGINT NOT NULL,
    error           BIGINT NOT NULL,
    cost_micro_usd  BIGINT NOT NULL,
    PRIMARY KEY (org_id, hour, domain)
);

-- Evaluation latency as a histogram: bucket b holds latencies up to 0.01 ms × 1.05^b.
CREATE TABLE rollup_latency (
    org_id  TEXT NOT NULL,
    hour    BIGINT NOT NULL,
    domain  TEXT NOT NULL,
    bucket  BIGINT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_id, hour, domain, bucket)
);

CREATE TABLE rollup_tiers (
    org_id     TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    domain     TEXT NOT NULL,
    tier       BIGINT NOT NULL,
    runs       BIGINT NOT NULL,
    micro_usd  BIGINT NOT NULL,
    PRIMARY KEY (org_id, hour, domain, tier)
);

-- Traces per issue type; a trace counts once per type.
CREATE TABLE rollup_issues (
    org_id  TEXT NOT NULL,
    hour    BIGINT NOT NULL,
    domain  TEXT NOT NULL,
    code    TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_id, hour, domain, code)
);

DROP TABLE cost_totals;
