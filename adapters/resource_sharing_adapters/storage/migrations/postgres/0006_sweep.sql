-- The consistency sweep, version 6 (PostgreSQL).
-- rs_jobs: one row per scheduled job; a run is claimed by moving next_run_at forward in
-- the claiming transaction (the row stays locked until it commits), so one process runs
-- each period.
CREATE TABLE rs_jobs (
    job         TEXT        PRIMARY KEY,
    next_run_at timestamptz NOT NULL,
    owner       TEXT        NOT NULL,
    claimed_at  timestamptz NOT NULL
);
-- The idle query: open requests of a side by the time of their last change.
CREATE INDEX rs_requests_idle ON rs_requests (side, terminal, updated_at, id);
