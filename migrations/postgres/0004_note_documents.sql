-- Each note's body as a Yjs document: an append-only update log plus at most one snapshot
-- (the log folded up to `through_seq`). `notes.content` holds the same body as plain text,
-- written in the transaction of every append. Both go when the note goes.
CREATE TABLE note_updates (
    note_id UUID NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    data BYTEA NOT NULL,
    PRIMARY KEY (note_id, seq)
);

CREATE TABLE note_snapshots (
    note_id UUID PRIMARY KEY NOT NULL REFERENCES notes(id) ON DELETE CASCADE,
    state BYTEA NOT NULL,
    through_seq BIGINT NOT NULL
);
