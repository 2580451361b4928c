-- One-time links sent by email: an invitation to join an organization with a role, or a
-- password reset. Only the token's digest is stored; a link works once, until it expires.
CREATE TABLE user_links (
    token_hash  TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    org_id      TEXT NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email       TEXT NOT NULL,
    role        TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX user_links_by_email ON user_links (email);
