-- Session recordings: one row per recording of a live session, one per track file.
-- Files live in <data_dir>/recordings/<recording id>/, with a manifest.json beside them.
-- A recording left `recording` or `paused` by a crash is marked `interrupted` at start.
CREATE TABLE session_recordings (
    id BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    started_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    status TEXT NOT NULL
        CHECK (status IN ('recording', 'paused', 'stopped', 'interrupted', 'failed')),
    shared BOOLEAN NOT NULL DEFAULT FALSE,
    stop_reason TEXT,
    started_at TEXT NOT NULL,
    stopped_at TEXT
);
CREATE INDEX idx_session_recordings_session ON session_recordings(session_id, started_at);

-- A track's file begins at the recording's start (audio with silence, video with its first
-- frame's timestamp), so an offset in the recording is the same offset in every file.
CREATE TABLE session_recording_tracks (
    id BLOB PRIMARY KEY NOT NULL,
    recording_id BLOB NOT NULL REFERENCES session_recordings(id) ON DELETE CASCADE,
    participant_id BLOB NOT NULL,
    display_name TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('microphone', 'camera', 'screen')),
    codec TEXT NOT NULL CHECK (codec IN ('opus', 'vp8', 'vp9', 'h264')),
    file_name TEXT NOT NULL,
    started_secs REAL NOT NULL,
    file_size INTEGER NOT NULL DEFAULT 0,
    transcript_id BLOB REFERENCES audio_recordings(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX idx_session_recording_tracks_recording ON session_recording_tracks(recording_id);

-- An audio track is transcribed through the upload pipeline as an audio recording of its
-- own; `origin` keeps those out of the uploads list.
ALTER TABLE audio_recordings ADD COLUMN origin TEXT NOT NULL DEFAULT 'upload'
    CHECK (origin IN ('upload', 'session'));
