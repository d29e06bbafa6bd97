-- The request store, version 1 (PostgreSQL).
-- Records are cattrs JSON documents (JSONB); the fields the store queries are columns.

CREATE TABLE rs_requests (
    side            text        NOT NULL,
    id              text        NOT NULL,
    version         integer     NOT NULL,
    state           text        NOT NULL,
    task_list       text,
    desk            text,
    instruction     text,
    needs_attention boolean     NOT NULL,
    terminal        boolean     NOT NULL,
    patron_id       text,
    counterpart     text,
    protocol_ids    text        NOT NULL,
    barcodes        text        NOT NULL,
    next_deadline   timestamptz,
    updated_at      timestamptz NOT NULL,
    document        jsonb       NOT NULL,
    PRIMARY KEY (side, id)
);

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
    side        text NOT NULL,
    protocol_id text NOT NULL,
    request_id  text NOT NULL,
    agency      text,
    PRIMARY KEY (side, protocol_id, request_id)
);
CREATE INDEX rs_protocol_ids_request ON rs_protocol_ids (side, request_id);

CREATE TABLE rs_barcodes (
    barcode    text NOT NULL,
    side       text NOT NULL,
    request_id text NOT NULL,
    PRIMARY KEY (barcode, side, request_id)
);
CREATE INDEX rs_barcodes_request ON rs_barcodes (side, request_id);

-- Append-only: position orders entries as they were appended; a trigger refuses changes.
CREATE TABLE rs_history (
    position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    side       text        NOT NULL,
    request_id text        NOT NULL,
    sequence   integer     NOT NULL,
    at         timestamptz NOT NULL,
    document   jsonb       NOT NULL
);
CREATE INDEX rs_history_request ON rs_history (side, request_id, position);
CREATE FUNCTION rs_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'rs_history is append-only';
END;
$$;
CREATE TRIGGER rs_history_append_only BEFORE UPDATE OR DELETE ON rs_history
    FOR EACH ROW EXECUTE FUNCTION rs_history_append_only();

CREATE TABLE rs_outbox (
    id              text        PRIMARY KEY,
    side            text        NOT NULL,
    request_id      text        NOT NULL,
    status          text        NOT NULL,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    lease_until     timestamptz,
    document        jsonb       NOT NULL
);
CREATE INDEX rs_outbox_ready ON rs_outbox (next_attempt_at, created_at, id)
    WHERE status = 'pending';
CREATE INDEX rs_outbox_created ON rs_outbox (created_at, id);
CREATE INDEX rs_outbox_status ON rs_outbox (status, created_at, id);

CREATE TABLE rs_processed (
    key          text  PRIMARY KEY,
    confirmation jsonb NOT NULL
);
