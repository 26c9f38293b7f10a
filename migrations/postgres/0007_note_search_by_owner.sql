-- Search scoped to its reader (see src/db/search.rs). One GIN index over the owner and the
-- text answers "this owner's notes containing these words" from the index alone, so a search
-- reads only the caller's matching notes (plus the few shared with them, through
-- `idx_note_shares_user`), not every match in the corpus. It replaces the text-only index,
-- which nothing else reads. `btree_gin` (a trusted contrib extension, part of every
-- standard PostgreSQL install) lets GIN index the uuid column.
CREATE EXTENSION IF NOT EXISTS btree_gin;
CREATE INDEX idx_notes_owner_search ON notes USING GIN (owner_id, search_vector);
DROP INDEX idx_notes_search;
