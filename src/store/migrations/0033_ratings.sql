-- frontdesk schema 33: customers rate replies (a channel's `ratings = true` puts links
-- under each reply). One rating per reply; a customer who changes their mind replaces
-- it. The reports count them by when they were given.
CREATE TABLE ratings (
    message_row INTEGER PRIMARY KEY REFERENCES messages(id),
    rating      TEXT NOT NULL CHECK (rating IN ('good', 'okay', 'bad')),
    comment     TEXT NOT NULL DEFAULT '',
    rated_at    INTEGER NOT NULL
);
CREATE INDEX ratings_rated_at ON ratings(rated_at);
-- Agents hear of a reply of theirs rated "Not good", unless they say otherwise.
ALTER TABLE users ADD COLUMN notify_bad_rating INTEGER NOT NULL DEFAULT 1;
