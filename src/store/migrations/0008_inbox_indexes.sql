-- frontdesk schema 8: indexes in the order the agent page reads, so a page of 50 rows
-- never sorts or counts a whole desk of tickets.
-- Mine / unassigned (and routing's open-ticket counts): by owner, open first, newest.
DROP INDEX IF EXISTS tickets_owner_open;
CREATE INDEX tickets_owner_updated ON tickets(owner, closed, updated_at DESC, id DESC)
    WHERE merged_into IS NULL;
-- Open and closed views, newest activity first.
CREATE INDEX tickets_closed_updated ON tickets(closed, updated_at DESC, id DESC)
    WHERE merged_into IS NULL;
-- A contact's tickets (the contact panel), newest first.
DROP INDEX IF EXISTS tickets_contact;
CREATE INDEX tickets_contact_updated ON tickets(contact_id, updated_at DESC, id DESC);
