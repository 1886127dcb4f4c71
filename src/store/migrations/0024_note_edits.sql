-- frontdesk schema 24: an agent may correct or delete their own internal note; the
-- thread marks a corrected one and shows where a deleted one was (its row stays, so
-- message numbers are never reused and what agents have read stays right). Kept apart
-- from `messages`, whose large columns stay last (schema 9).
CREATE TABLE note_edits (
    message_row INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    edited_at   INTEGER,
    deleted_at  INTEGER
);
-- A corrected or deleted note looks its mentions up by the note.
CREATE INDEX mentions_message ON mentions(message_row);
