-- Live sessions: the schedule, who takes part in which role, the hub's event log
-- (the source of truth for chat, polls, Q&A, hands; replayed after a restart) and the
-- ids of join tickets already used (each ticket opens one connection).
CREATE TABLE live_sessions (
    id BLOB PRIMARY KEY NOT NULL,
    host_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
    scheduled_start TEXT NOT NULL,
    scheduled_end TEXT,
    started_at TEXT,
    ended_at TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_live_sessions_status ON live_sessions(status, scheduled_start);
CREATE INDEX idx_live_sessions_host ON live_sessions(host_id);

CREATE TABLE session_participants (
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT CHECK (role IN ('host', 'cohost', 'presenter', 'participant', 'viewer')),
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at TEXT,
    left_at TEXT,
    PRIMARY KEY (session_id, user_id)
);

CREATE TABLE session_events (
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE session_tickets (
    jti BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL
);
CREATE INDEX idx_session_tickets_expiry ON session_tickets(expires_at);
