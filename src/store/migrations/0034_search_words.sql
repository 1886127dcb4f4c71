-- The words the full-text index holds, so that a half-typed word is searched as the
-- whole words it begins (see store/words.rs): FTS5's own prefix query merges every
-- posting of those words before it yields a row. Filled from the index as it is;
-- from now on each text put into `search` adds its words.
CREATE TABLE search_words (word TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE temp.search_vocabulary USING fts5vocab(main, search, 'row');
INSERT INTO search_words (word) SELECT term FROM temp.search_vocabulary;
DROP TABLE temp.search_vocabulary;
