-- Erasing a customer (a data-protection request) deletes their tickets, mail and
-- contact row. With foreign keys on, each deleted row is looked up in every table that
-- points at it; these indexes make those look-ups (and finding the customer's mail on
-- other tickets) index reads instead of scans of the whole mail table. (Whole
-- indexes, not partial ones: the look-ups are sure to use them.)
CREATE INDEX messages_contact ON messages(contact_id);
CREATE INDEX ingest_keys_message ON ingest_keys(message_id);
CREATE INDEX tickets_merged_into ON tickets(merged_into);
CREATE INDEX ticket_participants_contact ON ticket_participants(contact_id);
CREATE INDEX ticket_seen_ticket ON ticket_seen(ticket_id);
CREATE INDEX mentions_ticket ON mentions(ticket_id);
CREATE INDEX notifications_ticket ON notifications(ticket_id);
CREATE INDEX outbox_ticket ON outbox(ticket_id);
CREATE INDEX outbox_source ON outbox(source_row);
CREATE INDEX close_reminders_message ON close_reminders(message_row);
-- The customers directory's "Only mine": the contacts an agent owns.
CREATE INDEX contacts_owner ON contacts(owner) WHERE owner IS NOT NULL;
