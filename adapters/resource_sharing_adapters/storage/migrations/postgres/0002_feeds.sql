-- The change feed and the journal, version 2 (PostgreSQL).
-- A sequence or identity column is handed out when a row is inserted, not when its
-- transaction commits: a reader could see 12 committed while 11 is still in flight, move
-- its cursor to 12 and never see 11. So numbers come from a counter row instead, taken
-- (UPDATE ... RETURNING, which row-locks it) as the last statement before COMMIT: the next
-- writer waits for that commit, so numbers are given in commit order, with no gaps (a
-- rollback gives them back).

CREATE TABLE rs_counters (
    name text   PRIMARY KEY,
    last bigint NOT NULL
);
INSERT INTO rs_counters (name, last) VALUES ('changes', 0), ('journal', 0);

CREATE TABLE rs_changes (
    seq        bigint PRIMARY KEY,
    side       text   NOT NULL,
    request_id text   NOT NULL,
    document   jsonb  NOT NULL
);
CREATE INDEX rs_changes_request ON rs_changes (side, request_id, seq);

-- key: the effect's idempotency key; the same key is journalled once.
CREATE TABLE rs_journal (
    seq        bigint PRIMARY KEY,
    kind       text   NOT NULL,
    command    text   NOT NULL,
    request_id text,
    key        text   UNIQUE,
    detail     jsonb  NOT NULL
);
