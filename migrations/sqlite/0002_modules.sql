-- Workshop modules and each learner's progress through them.
-- `content` is JSON text: {"objectives": [..], "materials": [..], "exercises": [..]}.
-- `search_text` is lowercase(title || char(10) || description), written by the server, so the
-- list's substring filter folds case the same way (Unicode-aware) on SQLite and PostgreSQL.
-- `linked_session_id` has no foreign key yet: the live-sessions table does not exist; the
-- sessions migration can add the reference.
CREATE TABLE modules (
    id BLOB PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    search_text TEXT NOT NULL,
    order_index INTEGER NOT NULL,
    duration_minutes INTEGER NOT NULL DEFAULT 0 CHECK (duration_minutes >= 0),
    difficulty TEXT NOT NULL CHECK (difficulty IN ('beginner', 'intermediate', 'advanced')),
    content TEXT NOT NULL,
    linked_session_id BLOB,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_modules_order ON modules(order_index, created_at);
CREATE INDEX idx_modules_session ON modules(linked_session_id);

-- A module is locked for a user until every one of its prerequisites is completed.
CREATE TABLE module_prerequisites (
    module_id BLOB NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
    prerequisite_id BLOB NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
    PRIMARY KEY (module_id, prerequisite_id),
    CHECK (module_id <> prerequisite_id)
);
CREATE INDEX idx_module_prerequisites_prerequisite ON module_prerequisites(prerequisite_id);

CREATE TABLE progress (
    id BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    module_id BLOB NOT NULL REFERENCES modules(id) ON DELETE CASCADE,
    status TEXT NOT NULL DEFAULT 'not_started'
        CHECK (status IN ('not_started', 'in_progress', 'completed')),
    progress_percent INTEGER NOT NULL DEFAULT 0 CHECK (progress_percent BETWEEN 0 AND 100),
    time_spent_minutes INTEGER NOT NULL DEFAULT 0 CHECK (time_spent_minutes >= 0),
    last_accessed_at TEXT NOT NULL,
    completed_at TEXT,
    UNIQUE (user_id, module_id)
);
CREATE INDEX idx_progress_module ON progress(module_id, status);
