-- Invite links to a session: stored only as SHA-256 hashes of their tokens; each grants a
-- session role, may admit guests (no account), and may be limited in uses and time.
CREATE TABLE session_invites (
    id BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    token_hash BLOB NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('presenter', 'participant', 'viewer')),
    guests BOOLEAN NOT NULL,
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    expires_at TEXT,
    created_by BLOB REFERENCES users(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX session_invites_by_session ON session_invites (session_id);

-- Guests: participants of one session without an account. Their participant id is `id`;
-- rejoining takes the secret handed out once (stored as its SHA-256 hash).
CREATE TABLE session_guests (
    id BLOB PRIMARY KEY NOT NULL,
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    invite_id BLOB REFERENCES session_invites(id) ON DELETE SET NULL,
    display_name TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('host', 'cohost', 'presenter', 'participant', 'viewer')),
    banned BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TEXT NOT NULL
);
CREATE INDEX session_guests_by_session ON session_guests (session_id);

-- Accounts that accepted an invite: they may join an invite-only session.
CREATE TABLE session_invitees (
    session_id BLOB NOT NULL REFERENCES live_sessions(id) ON DELETE CASCADE,
    user_id BLOB NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    invite_id BLOB REFERENCES session_invites(id) ON DELETE SET NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (session_id, user_id)
);
