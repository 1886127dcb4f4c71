-- frontdesk schema 14: blocked senders. An agent who marks a ticket as spam blocks its
-- customer: their later mail is still stored (nothing is lost) but filed closed and
-- tagged spam, with no acknowledgement and no owner.
ALTER TABLE contacts ADD COLUMN blocked INTEGER NOT NULL DEFAULT 0;
