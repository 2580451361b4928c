-- The plan whose rate limits apply to an organization; none: the configured default plan.
ALTER TABLE organizations ADD COLUMN plan TEXT;
