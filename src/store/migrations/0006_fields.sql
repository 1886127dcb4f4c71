-- frontdesk schema 6: fields submitted with a message (web forms), as JSON
-- [{"name", "value", "hidden"}]. Hidden fields are kept for rules and integrations;
-- readers drop them (model::visible_fields), so no agent view ever shows one.
ALTER TABLE messages ADD COLUMN fields TEXT;
