-- The model registry: each organization's Tier 2 models per domain, retrained on its experts'
-- reviews. One is in production per organization and domain; without one, the pack's model runs.
CREATE TABLE models (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    domain         TEXT NOT NULL,
    tier           BIGINT NOT NULL,
    version        TEXT NOT NULL,
    stage          TEXT NOT NULL,   -- staging | production | archived
    metrics        TEXT NOT NULL,   -- JSON: accuracy, precision, recall, brier, ece, sizes, seconds
    reviews_used   BIGINT NOT NULL,
    body           TEXT NOT NULL,   -- the model itself (weights)
    note           TEXT NOT NULL,   -- how it compared with production when registered
    created_at     BIGINT NOT NULL,
    promoted_at    BIGINT
);
CREATE INDEX models_by_domain ON models (org_id, domain, created_at);
CREATE INDEX models_in_production ON models (org_id) WHERE stage = 'production';
