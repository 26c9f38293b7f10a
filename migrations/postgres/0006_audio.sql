-- Uploaded audio, its transcription job and the resulting timestamped segments.
-- The file lives at <data_dir>/audio/<id>.<format extension>.
CREATE TABLE audio_recordings (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    module_id UUID REFERENCES modules(id) ON DELETE SET NULL,
    title TEXT NOT NULL,
    file_name TEXT NOT NULL,
    format TEXT NOT NULL,
    file_size BIGINT NOT NULL,
    duration_secs DOUBLE PRECISION NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_audio_recordings_user ON audio_recordings(user_id, created_at);

-- One job per recording: queued -> running -> done | failed | cancelled; a retry queues it
-- again. Jobs left `running` by a crash are queued again at start.
CREATE TABLE transcription_jobs (
    id UUID PRIMARY KEY,
    recording_id UUID NOT NULL UNIQUE REFERENCES audio_recordings(id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
    progress DOUBLE PRECISION NOT NULL DEFAULT 0,
    error TEXT,
    attempts BIGINT NOT NULL DEFAULT 0,
    engine TEXT,
    queued_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ
);
CREATE INDEX idx_transcription_jobs_status ON transcription_jobs(status, queued_at);

CREATE TABLE transcript_segments (
    recording_id UUID NOT NULL REFERENCES audio_recordings(id) ON DELETE CASCADE,
    idx BIGINT NOT NULL,
    start_secs DOUBLE PRECISION NOT NULL,
    end_secs DOUBLE PRECISION NOT NULL,
    text TEXT NOT NULL,
    speaker TEXT,
    search_vector tsvector GENERATED ALWAYS AS (to_tsvector('english', text)) STORED,
    PRIMARY KEY (recording_id, idx)
);
CREATE INDEX idx_transcript_segments_search ON transcript_segments USING GIN (search_vector);
