-- A customer's colleagues: the contacts who write from the same domain, found by
-- their domain (the ticket page's "Others at example.com").
CREATE INDEX contacts_domain ON contacts(lower(substr(email, instr(email, '@') + 1)));
