-- Staff accounts of the console and the staff API (SQLite).
-- roles: comma-separated role names; password: an argon2 hash; token_hash: the SHA-256 of
-- the user's API token (the token itself is shown once and never stored);
-- generation: bumped on logout, password change and disable, so older sessions end.
CREATE TABLE rs_staff_users (
    username     TEXT    PRIMARY KEY,
    display_name TEXT    NOT NULL,
    roles        TEXT    NOT NULL,
    desk         TEXT,
    password     TEXT    NOT NULL,
    disabled     INTEGER NOT NULL DEFAULT 0,
    failures     INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    token_hash   TEXT    UNIQUE,
    generation   INTEGER NOT NULL DEFAULT 0
);

-- name: 'session' holds the key that signs session cookies, shared by every process.
CREATE TABLE rs_staff_secrets (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
