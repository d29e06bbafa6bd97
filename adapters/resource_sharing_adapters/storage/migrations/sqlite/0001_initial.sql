-- The request store, version 1 (SQLite).
-- Times are integer microseconds since 1970-01-01 UTC, so that they sort and compare.
-- Records are cattrs JSON documents; the fields the store queries are columns next to them.

CREATE TABLE rs_requests (
    side            TEXT    NOT NULL,
    id              TEXT    NOT NULL,
    version         INTEGER NOT NULL,
    state           TEXT    NOT NULL,
    task_list       TEXT,
    desk            TEXT,
    instruction     TEXT,
    needs_attention INTEGER NOT NULL,
    terminal        INTEGER NOT NULL,
    patron_id       TEXT,
    counterpart     TEXT,
    protocol_ids    TEXT    NOT NULL,
    barcodes        TEXT    NOT NULL,
    next_deadline   INTEGER,
    updated_at      INTEGER NOT NULL,
    document        TEXT    NOT NULL,
    PRIMARY KEY (side, id)
) WITHOUT ROWID;

-- One index per task-list query shape: list, list+desk, list+state, list+desk+state,
-- each ordered as the page is (oldest first).
CREATE INDEX rs_requests_tasks ON rs_requests (task_list, updated_at, id)
    WHERE task_list IS NOT NULL;
CREATE INDEX rs_requests_tasks_desk ON rs_requests (task_list, desk, updated_at, id)
    WHERE task_list IS NOT NULL;
CREATE INDEX rs_requests_tasks_state ON rs_requests (task_list, state, updated_at, id)
    WHERE task_list IS NOT NULL;
CREATE INDEX rs_requests_tasks_desk_state
    ON rs_requests (task_list, desk, state, updated_at, id)
    WHERE task_list IS NOT NULL;
CREATE INDEX rs_requests_patron ON rs_requests (patron_id, id)
    WHERE patron_id IS NOT NULL;
CREATE INDEX rs_requests_deadline ON rs_requests (next_deadline, side, id)
    WHERE next_deadline IS NOT NULL;

-- requestingAgencyRequestIds naming a request; agency is the requester (lending side only).
CREATE TABLE rs_protocol_ids (
    side        TEXT NOT NULL,
    protocol_id TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    agency      TEXT,
    PRIMARY KEY (side, protocol_id, request_id)
) WITHOUT ROWID;
CREATE INDEX rs_protocol_ids_request ON rs_protocol_ids (side, request_id);

CREATE TABLE rs_barcodes (
    barcode    TEXT NOT NULL,
    side       TEXT NOT NULL,
    request_id TEXT NOT NULL,
    PRIMARY KEY (barcode, side, request_id)
) WITHOUT ROWID;
CREATE INDEX rs_barcodes_request ON rs_barcodes (side, request_id);

-- Append-only: position orders entries as they were appended; triggers refuse changes.
CREATE TABLE rs_history (
    position   INTEGER PRIMARY KEY AUTOINCREMENT,
    side       TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    sequence   INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    document   TEXT    NOT NULL
);
CREATE INDEX rs_history_request ON rs_history (side, request_id, position);
CREATE TRIGGER rs_history_no_update BEFORE UPDATE ON rs_history
BEGIN
    SELECT RAISE(ABORT, 'rs_history is append-only');
END;
CREATE TRIGGER rs_history_no_delete BEFORE DELETE ON rs_history
BEGIN
    SELECT RAISE(ABORT, 'rs_history is append-only');
END;

CREATE TABLE rs_outbox (
    id              TEXT    PRIMARY KEY,
    side            TEXT    NOT NULL,
    request_id      TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER,
    document        TEXT    NOT NULL
);
CREATE INDEX rs_outbox_ready ON rs_outbox (next_attempt_at, created_at, id)
    WHERE status = 'pending';
CREATE INDEX rs_outbox_created ON rs_outbox (created_at, id);
CREATE INDEX rs_outbox_status ON rs_outbox (status, created_at, id);

CREATE TABLE rs_processed (
    key          TEXT PRIMARY KEY,
    confirmation TEXT NOT NULL
) WITHOUT ROWID;
