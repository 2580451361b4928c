-- Aegis schema, PostgreSQL dialect. Timestamps are microseconds since the Unix epoch (UTC).

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

-- API keys are stored as SHA-256 hashes; the plaintext is shown once, at creation.
CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES organizations (id),
    name        TEXT NOT NULL,
    prefix      TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES organizations (id),
    email          TEXT NOT NULL UNIQUE,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL,
    created_at     BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);

CREATE TABLE traces (
    org_id             TEXT NOT NULL,
    id                 TEXT NOT NULL,
    application_id     TEXT NOT NULL,
    model              TEXT NOT NULL,
    input              TEXT NOT NULL,
    output             TEXT NOT NULL,
    prompt_tokens      BIGINT,
    completion_tokens  BIGINT,
    latency_ms         DOUBLE PRECISION,
    steps              TEXT NOT NULL,
    metadata           TEXT NOT NULL,
    domain             TEXT,
    ts                 BIGINT NOT NULL,
    received_at        BIGINT NOT NULL,
    status             TEXT NOT NULL,
    severity           TEXT,
    content_hash       TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX traces_by_time ON traces (org_id, ts DESC, id DESC);
CREATE INDEX traces_by_domain ON traces (org_id, domain, ts DESC, id DESC);
CREATE INDEX traces_by_status ON traces (org_id, status, ts DESC, id DESC);

-- The durable queue. A job exists from the trace's own transaction until its evaluation is
-- written; `available_at` is when it may next be claimed (a claim pushes it out by the lease).
-- One job per trace holds because jobs are only written for traces the same transaction
-- created; a unique index would cost every insert and delete to re-check it.
CREATE TABLE evaluation_jobs (
    id            BIGSERIAL PRIMARY KEY,
    org_id        TEXT NOT NULL,
    trace_id      TEXT NOT NULL,
    attempts      BIGINT NOT NULL,
    available_at  BIGINT NOT NULL,
    locked_by     TEXT,
    last_error    TEXT,
    created_at    BIGINT NOT NULL
);
CREATE INDEX evaluation_jobs_by_availability ON evaluation_jobs (available_at);

CREATE TABLE evaluations (
    org_id          TEXT NOT NULL,
    trace_id        TEXT NOT NULL,
    status          TEXT NOT NULL,
    severity        TEXT NOT NULL,
    tiers_run       TEXT NOT NULL,
    modules         TEXT NOT NULL,
    issues          TEXT NOT NULL,
    cost_micro_usd  BIGINT NOT NULL,
    latency_ms      DOUBLE PRECISION NOT NULL,
    attempts        BIGINT NOT NULL,
    evaluated_at    BIGINT NOT NULL,
    PRIMARY KEY (org_id, trace_id)
);
