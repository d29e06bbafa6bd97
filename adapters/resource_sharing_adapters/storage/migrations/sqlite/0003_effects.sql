-- Every effect that leaves the core, and the staff tasks of deliveries that gave up,
-- version 3 (SQLite). Times are integer microseconds since 1970-01-01 UTC.
-- rs_effects replaces rs_outbox (peer messages only): its pending messages are carried
-- over as peer entries; the old table is kept, unused, for what was delivered before.

CREATE TABLE rs_effects (
    id              TEXT    PRIMARY KEY,
    side            TEXT    NOT NULL,
    request_id      TEXT    NOT NULL,
    port            TEXT    NOT NULL,
    stream          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_by      TEXT,
    lease_until     INTEGER,
    document        TEXT    NOT NULL
);
-- The claim: pending entries of a port, oldest first; the earlier pending ones of a stream.
CREATE INDEX rs_effects_ready ON rs_effects (port, created_at, id) WHERE status = 'pending';
CREATE INDEX rs_effects_stream ON rs_effects (stream, created_at, id) WHERE status = 'pending';
CREATE INDEX rs_effects_request ON rs_effects (side, request_id, created_at, id);
CREATE INDEX rs_effects_status ON rs_effects (status, created_at, id);
CREATE INDEX rs_effects_created ON rs_effects (created_at, id);
CREATE INDEX rs_effects_owner ON rs_effects (claimed_by) WHERE claimed_by IS NOT NULL;

INSERT INTO rs_effects (id, side, request_id, port, stream, status, created_at,
                        next_attempt_at, claimed_by, lease_until, document)
SELECT id, side, request_id, 'peer',
       side || '/' || request_id || '/peer/'
            || json_extract(document, '$.to.type') || ':' || json_extract(document, '$.to.value'),
       'pending', created_at, next_attempt_at, NULL, NULL,
       json_object(
           'id', id, 'key', id, 'side', side, 'request_id', request_id, 'port', 'peer',
           'stream', side || '/' || request_id || '/peer/'
                || json_extract(document, '$.to.type') || ':'
                || json_extract(document, '$.to.value'),
           'effect', json_object('_type', 'SendMessage',
                                 'to', json_extract(document, '$.to'),
                                 'message', json_extract(document, '$.message')),
           'created_at', json_extract(document, '$.created_at'),
           'next_attempt_at', json_extract(document, '$.next_attempt_at'),
           'attempts', json_extract(document, '$.attempts'),
           'status', 'pending',
           'last_error', json_extract(document, '$.last_error'),
           'claimed_by', NULL, 'lease_until', NULL, 'finished_at', NULL)
FROM rs_outbox WHERE status = 'pending';

CREATE TABLE rs_tasks (
    id         TEXT    PRIMARY KEY,
    side       TEXT    NOT NULL,
    request_id TEXT    NOT NULL,
    task_list  TEXT    NOT NULL,
    desk       TEXT,
    created_at INTEGER NOT NULL,
    resolved   INTEGER NOT NULL,
    document   TEXT    NOT NULL
);
CREATE INDEX rs_tasks_open ON rs_tasks (resolved, created_at, id);
CREATE INDEX rs_tasks_request ON rs_tasks (side, request_id, created_at, id);
