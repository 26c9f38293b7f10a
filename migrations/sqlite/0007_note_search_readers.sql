-- Search scoped to its reader (see src/db/search.rs). The notes index gains a `readers`
-- column with one token per user who may read the note, its owner and everyone it is shared
-- with, so a search names its caller inside the FTS5 query and the index yields only the
-- caller's notes, not every match in the corpus.
--
-- A token is `u` + the user id in lowercase hex + `0`: one word for the tokenizer, and it
-- ends in a digit, so the porter stemmer (which strips only letter suffixes) keeps it whole
-- and no two ids can stem to the same token.
--
-- `notes_fts` stays an external-content index over `notes`, so a body is stored once. FTS5
-- reads each indexed column back from `notes`, so `readers` is a column there: generated
-- from the owner and `shared_with` (the share recipients' tokens), which the triggers on
-- `note_shares` keep current. Every change of readers is then an UPDATE of the note, and one
-- trigger takes the exact old row out of the index and puts the new one in, as an
-- external-content index requires.
ALTER TABLE notes ADD COLUMN shared_with TEXT NOT NULL DEFAULT '';
ALTER TABLE notes ADD COLUMN readers TEXT GENERATED ALWAYS AS (
    'u' || lower(hex(owner_id)) || '0 ' || shared_with
) VIRTUAL;

UPDATE notes SET shared_with = coalesce((
    SELECT group_concat('u' || lower(hex(s.user_id)) || '0', ' ')
    FROM note_shares s WHERE s.note_id = notes.id
), '');

DROP TRIGGER notes_fts_insert;
DROP TRIGGER notes_fts_delete;
DROP TRIGGER notes_fts_update;
DROP TABLE notes_fts;

CREATE VIRTUAL TABLE notes_fts USING fts5(
    title, content, readers, content='notes', content_rowid='doc_id',
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO notes_fts(notes_fts) VALUES ('rebuild');

CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, title, content, readers)
    VALUES (new.doc_id, new.title, new.content, new.readers);
END;
CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, content, readers)
    VALUES ('delete', old.doc_id, old.title, old.content, old.readers);
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content, owner_id, shared_with ON notes
BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, content, readers)
    VALUES ('delete', old.doc_id, old.title, old.content, old.readers);
    INSERT INTO notes_fts(rowid, title, content, readers)
    VALUES (new.doc_id, new.title, new.content, new.readers);
END;

-- A share added or revoked (also by a cascade from a deleted account) rewrites the note's
-- recipient tokens from `note_shares` itself. A changed permission does not touch them.
CREATE TRIGGER note_shares_readers_insert AFTER INSERT ON note_shares BEGIN
    UPDATE notes SET shared_with = coalesce((
        SELECT group_concat('u' || lower(hex(s.user_id)) || '0', ' ')
        FROM note_shares s WHERE s.note_id = new.note_id
    ), '') WHERE id = new.note_id;
END;
CREATE TRIGGER note_shares_readers_delete AFTER DELETE ON note_shares BEGIN
    UPDATE notes SET shared_with = coalesce((
        SELECT group_concat('u' || lower(hex(s.user_id)) || '0', ' ')
        FROM note_shares s WHERE s.note_id = old.note_id
    ), '') WHERE id = old.note_id;
END;
