-- The domain dashboards' breakdowns, per organization, hour and domain: for each facet (a
-- metadata value such as `meta.specialty`, an issue's subject such as `issue.drug_interaction`,
-- the trajectory's `pnl` bucket) how many traces, how many were flagged (fail or needs
-- review), and their summed PnL in hundredths.
CREATE TABLE rollup_facets (
    org_id   TEXT NOT NULL,
    hour     BIGINT NOT NULL,
    domain   TEXT NOT NULL,
    facet    TEXT NOT NULL,
    value    TEXT NOT NULL,
    traces   BIGINT NOT NULL,
    flagged  BIGINT NOT NULL,
    amount   BIGINT NOT NULL,
    PRIMARY KEY (org_id, hour, domain, facet, value)
);
