-- The update log without rowids: rows live in the b-tree of their key (note_id, seq), so
-- an append writes one b-tree instead of the table's and its primary key index's, and each
-- group commit copies about half the pages into the WAL.
CREATE TABLE note_updates_keyed (
    note_id BLOB NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (note_id, seq)
) WITHOUT ROWID;

INSERT INTO note_updates_keyed (note_id, seq, data)
SELECT note_id, seq, data FROM note_updates;

DROP TABLE note_updates;

ALTER TABLE note_updates_keyed RENAME TO note_updates;
