-- Two-step sign-in: an agent's authenticator secret (base32; NULL while it is off),
-- one being set up (shown on their account page until a code from it is typed), and
-- the last time step whose code signed them in, so that no code works twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;
-- Recovery codes: single-use codes an agent keeps on paper for a lost phone, stored as
-- their SHA-256 (each carries 50 random bits and works once, so a slow hash buys
-- nothing); used ones are deleted.
CREATE TABLE two_step_recovery (
    user_id   INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    PRIMARY KEY (user_id, code_hash)
) WITHOUT ROWID;
-- Which browser and address each session signed in from, for the agent's list of
-- where they are signed in (and the sign-out of the others).
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
