-- frontdesk schema 16: the ticket page shows, on each mail we sent, whom it went to and
-- whether it was delivered: its outbox entry is found by the message row.
CREATE INDEX outbox_message ON outbox(message_row);
