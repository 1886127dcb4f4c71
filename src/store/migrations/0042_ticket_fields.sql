-- What the desk records about each ticket beyond its own columns ([[ticket_field]]:
-- "Order number", "Product", "Renewal date"), one row per ticket and field; a field
-- left empty has no row. Kept when the config drops the field: the page still shows it.
CREATE TABLE ticket_fields (
    ticket_id INTEGER NOT NULL REFERENCES tickets(id),
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (ticket_id, name)
) WITHOUT ROWID;
