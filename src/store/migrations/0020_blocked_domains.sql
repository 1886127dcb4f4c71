-- frontdesk schema 20: whole domains blocked as spam (a wave of offers from ever-new
-- addresses of one company). Their senders' mail is filed as a blocked sender's is.
CREATE TABLE blocked_domains (
    domain     TEXT PRIMARY KEY,
    blocked_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;
