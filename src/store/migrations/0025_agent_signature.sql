-- frontdesk schema 25: each agent's own signature lines (title, direct line), which a
-- channel's signature shows where it says {{agent.signature}}.
ALTER TABLE users ADD COLUMN signature TEXT NOT NULL DEFAULT '';
