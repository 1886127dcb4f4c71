-- frontdesk schema 26: snippets agents write in the page (beside the configuration's
-- [[snippet]] tables), for every agent's reply box.
CREATE TABLE snippets (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    body       TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
