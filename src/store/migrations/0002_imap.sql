-- frontdesk schema 2: IMAP sync cursors. One row per account and folder: the
-- UIDVALIDITY seen and the highest UID whose message is committed. Updated in the
-- same transaction as the message, so a crash never skips or repeats one.
CREATE TABLE imap_cursors (
    account     TEXT NOT NULL,
    folder      TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    last_uid    INTEGER NOT NULL,
    -- Messages with a UID below this were in the folder before the first sync (or a
    -- UIDVALIDITY change): history, which never triggers automatic mail or deletion.
    history_below INTEGER NOT NULL DEFAULT 0,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (account, folder)
) WITHOUT ROWID;
