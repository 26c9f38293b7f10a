-- Workshop modules and each learner's progress through them.
-- `content` is JSONB: {"objectives": [..], "materials": [..], "exercises": [..]}.
-- `search_text` is lowercase(title || E'\n' || description), written by the server, so the
-- list's substring filter folds case the same way (Unicode-aware) on SQLite and PostgreSQL.
-- `linked_session_id` has no foreign key yet: the live-sessions table does not exist; the
-- sessions migration can add the reference.
CREATE TABLE modules (
    id UUID PRIMARY KEY,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL,
    order_index BIGINT NOT NULL,
    duration_minutes BIGINT NOT NULL DEFAULT 0 CHECK (duration_minutes >= 0),
    difficulty TEXT NOT NULL CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    content JSONB NOT NULL,
    linked_session_id UUID,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_modules_order ON modules(order_index, created_at);
CREATE INDEX idx_modules_session ON modules(linked_session_id);

-- A module is locked for a user until every one of its prerequisites is completed.
CREATE TABLE module_prerequisites (
    module_id UUID NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
    prerequisite_id UUID NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
    PRIMARY KEY (module_id, prerequisite_id),
    CHECK (module_id <> prerequisite_id)
);
CREATE INDEX idx_module_prerequisites_prerequisite ON module_prerequisites(prerequisite_id);

CREATE TABLE progress (
    id UUID PRIMARY KEY,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    module_id UUID NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'in_progress', 'completed')),
    progress_percent BIGINT NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
    time_spent_minutes BIGINT NOT NULL DEFAULT 0 CHECK (time_spent_minutes >= 0),
    last_accessed_at TIMESTAMPTZ NOT NULL,
    completed_at TIMESTAMPTZ,
    UNIQUE (user_id, module_id)
);
CREATE INDEX idx_progress_module ON progress(module_id, status);
