-- Where evaluations go after they are stored: signed webhooks and alert channels.

CREATE TABLE webhook_endpoints (
    id                     TEXT PRIMARY KEY,
    org_id                 TEXT NOT NULL,
    url                    TEXT NOT NULL,
    description            TEXT NOT NULL,
    events                 TEXT NOT NULL,   -- JSON array of event types
    secret                 TEXT NOT NULL,   -- whsec_...
    -- After a rotation the old secret also signs, until previous_secret_until.
    previous_secret        TEXT,
    previous_secret_until  BIGINT,
    enabled                BIGINT NOT NULL,
    disabled_reason        TEXT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL
);
CREATE INDEX webhook_endpoints_by_org ON webhook_endpoints (org_id);

CREATE TABLE alert_channels (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    name        TEXT NOT NULL,
    target      TEXT NOT NULL,   -- JSON: {"kind": "slack" | "email" | "pagerduty", ...}
    created_at  BIGINT NOT NULL
);
CREATE INDEX alert_channels_by_org ON alert_channels (org_id);

CREATE TABLE alert_rules (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL,
    name           TEXT NOT NULL,
    min_severity   TEXT NOT NULL,
    domains        TEXT NOT NULL,   -- JSON arrays; empty: any
    issue_types    TEXT NOT NULL,
    channels       TEXT NOT NULL,
    cooldown_secs  BIGINT NOT NULL,
    enabled        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX alert_rules_by_org ON alert_rules (org_id);

-- One row per rule and group of identical alerts: while window_ends_at is ahead, new ones are
-- counted in suppressed; when it has passed, the count goes out as a summary.
CREATE TABLE alert_groups (
    org_id          TEXT NOT NULL,
    rule_id         TEXT NOT NULL,
    group_key       TEXT NOT NULL,
    domain          TEXT NOT NULL,
    issue_type      TEXT NOT NULL,
    -- Of the latest alert grouped.
    severity        TEXT NOT NULL,
    window_ends_at  BIGINT NOT NULL,
    suppressed      BIGINT NOT NULL,
    -- Alerts counted in a window that ended before they were reported; the next alert reports them.
    carried         BIGINT NOT NULL,
    -- The write that opened the current window, so that it knows it did.
    opened_by       TEXT NOT NULL,
    last_trace_id   TEXT NOT NULL,
    PRIMARY KEY (org_id, rule_id, group_key)
);
CREATE INDEX alert_groups_due ON alert_groups (window_ends_at) WHERE suppressed > 0;

CREATE TABLE alerts (
    id           TEXT PRIMARY KEY,
    org_id       TEXT NOT NULL,
    rule_id      TEXT NOT NULL,
    body         TEXT NOT NULL,   -- JSON of the alert as sent
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    resolved_at  BIGINT
);
CREATE INDEX alerts_by_org ON alerts (org_id, created_at);

-- The durable outbox: one row per message and receiver, written in the transaction of the
-- event it reports, delivered (and retried) by whichever process claims it first.
CREATE TABLE outbox (
    id               TEXT PRIMARY KEY,   -- msg_...; the webhook-id header
    org_id           TEXT NOT NULL,
    sink             TEXT NOT NULL,      -- webhook | slack | email | pagerduty
    target_id        TEXT NOT NULL,      -- the endpoint or channel
    event_type       TEXT NOT NULL,
    payload          TEXT NOT NULL,
    status           TEXT NOT NULL,      -- pending | delivered | failed
    attempts         BIGINT NOT NULL,
    -- While pending: when it is due; a claim moves it to the end of the claimer's lease.
    next_attempt_at  BIGINT NOT NULL,
    last_status      BIGINT,
    last_error       TEXT,
    created_at       BIGINT NOT NULL,
    delivered_at     BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_by_target ON outbox (org_id, target_id, created_at);
-- For pruning finished messages past the retention period.
CREATE INDEX outbox_by_age ON outbox (created_at);

CREATE TABLE outbox_attempts (
    outbox_id    TEXT NOT NULL,
    attempt      BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    status_code  BIGINT,
    error        TEXT,
    duration_ms  BIGINT NOT NULL,
    PRIMARY KEY (outbox_id, attempt)
);
