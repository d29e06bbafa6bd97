-- The change feed and the journal, version 2 (SQLite).
-- Numbered by AUTOINCREMENT rowids: units of work are serialised by BEGIN IMMEDIATE, so
-- numbers are given in commit order, and a rolled-back unit gives its numbers back.

CREATE TABLE rs_changes (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    side       TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    document   TEXT    NOT NULL
);
CREATE INDEX rs_changes_request ON rs_changes (side, request_id, seq);

-- key: the effect's idempotency key; the same key is journalled once.
CREATE TABLE rs_journal (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT    NOT NULL,
    command    TEXT    NOT NULL,
    request_id TEXT,
    key        TEXT    UNIQUE,
    detail     TEXT    NOT NULL
);
