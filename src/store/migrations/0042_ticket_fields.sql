-- What the desk records about each ticket beyond its own columns ([[ticket_field]]:
-- "Order number", "Product", "Renewal date"), one row per ticket and field; a field
-- left empty has no row. Kept when the config drops the field: the page still shows it.
CREATE TABLE ticket_fields (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    -- As the config spells the field; a later change of its letter case finds it.
    name TEXT NOT NULL COLLATE NOCASE,
    value TEXT NOT NULL,
    PRIMARY KEY (ticket_id, name)
) WITHOUT ROWID;
-- The search box finds a ticket by a field's whole value ("A-4711").
CREATE INDEX ticket_fields_by_value ON ticket_fields (value COLLATE NOCASE);
