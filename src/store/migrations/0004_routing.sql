-- frontdesk schema 4: pipelines and ticket properties, teams, contact owners, and
-- the round-robin position of each channel's routing.
ALTER TABLE tickets ADD COLUMN pipeline TEXT NOT NULL DEFAULT 'Support';
ALTER TABLE tickets ADD COLUMN priority TEXT NOT NULL DEFAULT 'medium';
ALTER TABLE tickets ADD COLUMN tags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tickets ADD COLUMN closed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN team TEXT;
CREATE INDEX tickets_owner_open ON tickets(owner, closed);

ALTER TABLE contacts ADD COLUMN owner TEXT;

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id INTEGER NOT NULL REFERENCES teams(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    PRIMARY KEY (team_id, user_id)
) WITHOUT ROWID;

CREATE TABLE routing_state (
    channel       TEXT PRIMARY KEY,
    last_assigned TEXT
) WITHOUT ROWID;
