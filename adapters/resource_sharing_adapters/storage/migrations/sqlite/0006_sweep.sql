-- The consistency sweep, version 6 (SQLite). Times are integer microseconds since
-- 1970-01-01 UTC.
-- rs_jobs: one row per scheduled job; a run is claimed by moving next_run_at forward in
-- the claiming transaction, so one process runs each period.
CREATE TABLE rs_jobs (
    job         TEXT    PRIMARY KEY,
    next_run_at INTEGER NOT NULL,
    owner       TEXT    NOT NULL,
    claimed_at  INTEGER NOT NULL
);
-- The idle query: open requests of a side by the time of their last change.
CREATE INDEX rs_requests_idle ON rs_requests (side, terminal, updated_at, id);
