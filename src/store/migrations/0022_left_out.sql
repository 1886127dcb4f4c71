-- frontdesk schema 22: someone an agent took out of a reply's Cc box is not offered in
-- the Cc box again (they stay among the ticket's people) until they write, are copied
-- on the customer's mail again, or an agent copies them by hand.
ALTER TABLE ticket_participants ADD COLUMN copied INTEGER NOT NULL DEFAULT 1;
