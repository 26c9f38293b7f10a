-- Live sessions: the schedule, who takes part in which role, the hub's event log
-- (the source of truth for chat, polls, Q&A, hands; replayed after a restart) and the
-- ids of join tickets already used (each ticket opens one connection).
CREATE TABLE live_sessions (
    id UUID PRIMARY KEY,
    host_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'ended')),
    scheduled_start TIMESTAMPTZ NOT NULL,
    scheduled_end TIMESTAMPTZ,
    started_at TIMESTAMPTZ,
    ended_at TIMESTAMPTZ,
    settings JSONB NOT NULL DEFAULT '{}',
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_live_sessions_status ON live_sessions(status, scheduled_start);
CREATE INDEX idx_live_sessions_host ON live_sessions(host_id);

CREATE TABLE session_participants (
    session_id UUID NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    user_id UUID NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT CHECK (role IN ('host', 'cohost', 'presenter', 'participant', 'viewer')),
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    joined_at TIMESTAMPTZ,
    left_at TIMESTAMPTZ,
    PRIMARY KEY (session_id, user_id)
);

CREATE TABLE session_events (
    session_id UUID NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (session_id, seq)
);

CREATE TABLE session_tickets (
    jti UUID PRIMARY KEY,
    session_id UUID NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_session_tickets_expiry ON session_tickets(expires_at);
