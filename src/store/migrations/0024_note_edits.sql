-- frontdesk schema 24: an agent may correct or delete their own internal note; the
-- thread marks a corrected one (the history says who changed or deleted what). Kept
-- apart from `messages`, whose large columns stay last (schema 9).
CREATE TABLE note_edits (
    message_row INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    edited_at   INTEGER NOT NULL
);
-- A corrected or deleted note looks its mentions up by the note.
CREATE INDEX mentions_message ON mentions(message_row);
