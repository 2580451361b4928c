-- Sim-to-real pairs of RL agents: a trace's score in simulation and in reality.
CREATE TABLE transfer_pairs (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    domain      TEXT NOT NULL,   -- '' for none
    trace_id    TEXT NOT NULL,
    sim_score   DOUBLE PRECISION NOT NULL,
    real_score  DOUBLE PRECISION NOT NULL,
    features    TEXT NOT NULL,   -- JSON object of named numbers
    created_at  BIGINT NOT NULL
);
CREATE INDEX transfer_pairs_by_domain ON transfer_pairs (org_id, domain, created_at);
