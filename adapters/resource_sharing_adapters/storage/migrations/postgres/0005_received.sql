-- Each request's log of the peer messages applied to it, version 5 (PostgreSQL).
-- document: the ReceivedMessage (the decoded message, the confirmation, the raw XML when
-- the transport had it).
CREATE TABLE rs_received (
    position   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    side       text        NOT NULL,
    request_id text        NOT NULL,
    at         timestamptz NOT NULL,
    document   jsonb       NOT NULL
);
CREATE INDEX rs_received_request ON rs_received (side, request_id, position);
