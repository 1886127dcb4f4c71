-- frontdesk schema 40: search no longer finds the replies stored with their rating
-- links in their text (as the desk stored them before it kept the links out) by
-- "good", "okay" or the desk's address. Their search text is rewritten without the
-- links by store::ratings::search_without_rating_links, run after this file (SQLite
-- has no function that knows the links' shape). Nothing else changes.
SELECT 1;
