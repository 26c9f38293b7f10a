-- Uploaded audio, its transcription job and the resulting timestamped segments.
-- The file lives at <data_dir>/audio/<id>.<format extension>.
CREATE TABLE audio_recordings (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    module_id BLOB REFERENCES modules(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    duration_secs REAL NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_audio_recordings_user ON audio_recordings(user_id, created_at);

-- One job per recording: queued -> running -> done | failed | cancelled; a retry queues it
-- again. Jobs left `running` by a crash are queued again at start.
CREATE TABLE transcription_jobs (
    id BLOB PRIMARY KEY NOT NULL,
    recording_id BLOB NOT NULL UNIQUE REFERENCES audio_recordings(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    engine TEXT,
    queued_at TEXT NOT NULL,
    started_at TEXT,
    finished_at TEXT
);
CREATE INDEX idx_transcription_jobs_status ON transcription_jobs(status, queued_at);

CREATE TABLE transcript_segments (
    doc_id INTEGER PRIMARY KEY,
    recording_id BLOB NOT NULL REFERENCES audio_recordings(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start_secs REAL NOT NULL,
    end_secs REAL NOT NULL,
    text TEXT NOT NULL,
    speaker TEXT,
    UNIQUE (recording_id, idx)
);

CREATE VIRTUAL TABLE transcript_segments_fts USING fts5(
    text, content='transcript_segments', content_rowid='doc_id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER transcript_segments_fts_insert AFTER INSERT ON transcript_segments BEGIN
    INSERT INTO transcript_segments_fts(rowid, text) VALUES (new.doc_id, new.text);
END;
CREATE TRIGGER transcript_segments_fts_delete AFTER DELETE ON transcript_segments BEGIN
    INSERT INTO transcript_segments_fts(transcript_segments_fts, rowid, text)
    VALUES ('delete', old.doc_id, old.text);
END;
