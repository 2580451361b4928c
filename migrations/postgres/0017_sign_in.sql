-- Failed sign-ins, to slow down password guessing: counted per email (known or not, so that
-- the answer does not reveal which emails have accounts) and per client address, over a
-- sliding window.
CREATE TABLE sign_in_failures (
    email  TEXT NOT NULL,
    client TEXT NOT NULL,
    at     BIGINT NOT NULL
);
CREATE INDEX sign_in_failures_by_email ON sign_in_failures (email, at);
CREATE INDEX sign_in_failures_by_client ON sign_in_failures (client, at);

-- What a user sees in their list of sessions, to tell them apart and revoke one.
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';
CREATE INDEX sessions_by_user ON sessions (user_id);
