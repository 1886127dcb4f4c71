-- Two-step sign-in: an agent's authenticator secret (base32; NULL while it is off),
-- one being set up (shown on their account page until a code from it is typed), and
-- the last time step whose code signed them in, so that no code works twice.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_step INTEGER NOT NULL DEFAULT 0;
