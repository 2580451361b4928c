-- An organization's own switches for a domain pack's modules (a Tier 1 rule, `classifier`,
-- `llm_judge`): a row only where the organization changed the pack's default.
CREATE TABLE module_settings (
    org_id      TEXT NOT NULL,
    domain      TEXT NOT NULL,
    module      TEXT NOT NULL,
    enabled     INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    updated_by  TEXT NOT NULL,
    PRIMARY KEY (org_id, domain, module)
);
