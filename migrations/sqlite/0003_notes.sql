-- Notes. `content` is the note body as Markdown text: the REST view of the note's Yjs
-- document, kept current by every write so search and export read it directly.
-- `doc_id` gives FTS5 a stable integer rowid (an implicit rowid may change on VACUUM).
CREATE TABLE notes (
    doc_id INTEGER PRIMARY KEY,
    id BLOB NOT NULL UNIQUE,
    owner_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    folder TEXT,
    module_id BLOB REFERENCES modules(id) ON DELETE SET NULL,
    is_private INTEGER NOT NULL DEFAULT 1,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_notes_owner ON notes(owner_id, updated_at);

CREATE TABLE note_tags (
    note_id BLOB NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    tag TEXT NOT NULL,
    PRIMARY KEY (note_id, tag)
);
CREATE INDEX idx_note_tags_tag ON note_tags(tag);

CREATE TABLE note_shares (
    id BLOB PRIMARY KEY NOT NULL,
    note_id BLOB NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    permission TEXT NOT NULL CHECK (permission IN ('read', 'write')),
    created_at TEXT NOT NULL,
    UNIQUE (note_id, user_id)
);
CREATE INDEX idx_note_shares_user ON note_shares(user_id);

CREATE VIRTUAL TABLE notes_fts USING fts5(
    title, content, content='notes', content_rowid='doc_id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, title, content) VALUES (new.doc_id, new.title, new.content);
END;
CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, content)
    VALUES ('delete', old.doc_id, old.title, old.content);
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF title, content ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, title, content)
    VALUES ('delete', old.doc_id, old.title, old.content);
    INSERT INTO notes_fts(rowid, title, content) VALUES (new.doc_id, new.title, new.content);
END;

-- Modules are few: their index keeps its own copy keyed by module id.
CREATE VIRTUAL TABLE modules_fts USING fts5(
    module_id UNINDEXED, title, description,
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO modules_fts(module_id, title, description)
    SELECT id, title, coalesce(description, '') FROM modules;
CREATE TRIGGER modules_fts_insert AFTER INSERT ON modules BEGIN
    INSERT INTO modules_fts(module_id, title, description)
    VALUES (new.id, new.title, coalesce(new.description, ''));
END;
CREATE TRIGGER modules_fts_delete AFTER DELETE ON modules BEGIN
    DELETE FROM modules_fts WHERE module_id = old.id;
END;
CREATE TRIGGER modules_fts_update AFTER UPDATE OF title, description ON modules BEGIN
    DELETE FROM modules_fts WHERE module_id = old.id;
    INSERT INTO modules_fts(module_id, title, description)
    VALUES (new.id, new.title, coalesce(new.description, ''));
END;
