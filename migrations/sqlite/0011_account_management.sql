-- A disabled account cannot sign in or refresh, and its access tokens are refused.
ALTER TABLE users ADD COLUMN disabled_at TEXT;

-- One-time password-reset links issued by an admin: stored only as SHA-256 hashes, spent
-- (deleted) on use, at most one per account (a new link replaces the last).
CREATE TABLE password_resets (
    token_hash BLOB PRIMARY KEY NOT NULL,
    user_id BLOB NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
    expires_at TEXT NOT NULL,
    created_at TEXT NOT NULL
);
