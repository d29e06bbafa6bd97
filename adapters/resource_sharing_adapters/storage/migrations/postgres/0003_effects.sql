-- Every effect that leaves the core, and the staff tasks of deliveries that gave up,
-- version 3 (PostgreSQL). rs_effects replaces rs_outbox (peer messages only): its pending
-- messages are carried over as peer entries; the old table is kept, unused.

CREATE TABLE rs_effects (
    id              text        PRIMARY KEY,
    side            text        NOT NULL,
    request_id      text        NOT NULL,
    port            text        NOT NULL,
    stream          text        NOT NULL,
    status          text        NOT NULL,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    claimed_by      text,
    lease_until     timestamptz,
    document        jsonb       NOT NULL
);
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
            || (document #>> '{to,type}') || ':' || (document #>> '{to,value}'),
       'pending', created_at, next_attempt_at, NULL, NULL,
       jsonb_build_object(
           'id', id, 'key', id, 'side', side, 'request_id', request_id, 'port', 'peer',
           'stream', side || '/' || request_id || '/peer/'
                || (document #>> '{to,type}') || ':' || (document #>> '{to,value}'),
           'effect', jsonb_build_object('_type', 'SendMessage',
                                        'to', document -> 'to',
                                        'message', document -> 'message'),
           'created_at', document -> 'created_at',
           'next_attempt_at', document -> 'next_attempt_at',
           'attempts', document -> 'attempts',
           'status', 'pending',
           'last_error', document -> 'last_error',
           'claimed_by', NULL, 'lease_until', NULL, 'finished_at', NULL)
FROM rs_outbox WHERE status = 'pending';

CREATE TABLE rs_tasks (
    id         text        PRIMARY KEY,
    side       text        NOT NULL,
    request_id text        NOT NULL,
    task_list  text        NOT NULL,
    desk       text,
    created_at timestamptz NOT NULL,
    resolved   boolean     NOT NULL,
    document   jsonb       NOT NULL
);
CREATE INDEX rs_tasks_open ON rs_tasks (resolved, created_at, id);
CREATE INDEX rs_tasks_request ON rs_tasks (side, request_id, created_at, id);
