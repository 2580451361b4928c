-- De-identification: the encrypted vault, per-organization policies, the audit log, and the
-- roles of API keys (re-identification is for admin keys only).

-- token -> original, sealed with AES-256-GCM under a key that never enters the database.
-- Without a rowid, the primary key is the table: one B-tree to write per entry, not two.
CREATE TABLE phi_vault (
    org_id      TEXT NOT NULL,
    token       TEXT NOT NULL,
    phi_type    TEXT NOT NULL,
    nonce       BLOB NOT NULL,
    ciphertext  BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (org_id, token)
) WITHOUT ROWID;

CREATE TABLE phi_policies (
    org_id      TEXT PRIMARY KEY,
    policy      TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id  TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL,
    at      INTEGER NOT NULL
);
CREATE INDEX audit_log_by_org ON audit_log (org_id, at);

-- Facts about the installation, such as the fingerprint of the vault key it was written with.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

ALTER TABLE api_keys ADD COLUMN role TEXT NOT NULL DEFAULT 'admin';
