-- Optional two-factor sign-in (TOTP). The shared secret is sealed with the organization's
-- vault key (never stored in clear); a pending one waits for its first code. The last step
-- used stops a code from being replayed.
ALTER TABLE users ADD COLUMN totp_sealed TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
