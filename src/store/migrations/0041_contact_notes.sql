-- A note about a customer that every agent sees beside each of their tickets
-- ("prefers phone", "contract 4711, renewal in March"), with who wrote it last, when.
ALTER TABLE contacts ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE contacts ADD COLUMN note_by TEXT;
ALTER TABLE contacts ADD COLUMN note_at INTEGER;
