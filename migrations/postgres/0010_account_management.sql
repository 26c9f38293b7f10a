-- A disabled account cannot sign in or refresh, and its access tokens are refused.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMPTZ;

-- One-time password-reset links issued by an admin: stored only as SHA-256 hashes, spent
-- (deleted) on use, at most one per account (a new link replaces the last).
CREATE TABLE password_resets (
    token_hash BYTEA PRIMARY KEY,
    user_id UUID NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    expires_at TIMESTAMPTZ NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
