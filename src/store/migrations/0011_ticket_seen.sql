-- frontdesk schema 11: what each agent has read. An open ticket is new to an agent while
-- it holds a message (of any direction, notes too) past the last one that agent's
-- ticket page showed them.
CREATE TABLE ticket_seen (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    last_message INTEGER NOT NULL,
    PRIMARY KEY (user_id, ticket_id)
) WITHOUT ROWID;
