-- Each request's log of the peer messages applied to it, version 5 (SQLite).
-- document: the ReceivedMessage (the decoded message, the confirmation, the raw XML when
-- the transport had it). Times are integer microseconds since 1970-01-01 UTC.
CREATE TABLE rs_received (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    side       TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    document   TEXT    NOT NULL
);
CREATE INDEX rs_received_request ON rs_received (side, request_id, position);
