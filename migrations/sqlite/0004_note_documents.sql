-- Each note's body as a Yjs document: an append-only update log plus at most one snapshot
-- (the log folded up to `through_seq`). `notes.content` holds the same body as plain text,
-- written in the transaction of every append. Both go when the note goes.
CREATE TABLE note_updates (
    note_id BLOB NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (note_id, seq)
);

CREATE TABLE note_snapshots (
    note_id BLOB PRIMARY KEY NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    state BLOB NOT NULL,
    through_seq INTEGER NOT NULL
);
