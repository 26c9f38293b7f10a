-- `notes.content` is no longer rewritten with every stored update (that rewrote the note's
-- whole full-text index entry per keystroke batch): the room saves it about once a second,
-- on compaction and on unload. `content_seq` is the last update the text reflects, so a room
-- loaded after a crash knows its text is behind and saves it at once.
ALTER TABLE notes ADD COLUMN content_seq BIGINT NOT NULL DEFAULT 0;
