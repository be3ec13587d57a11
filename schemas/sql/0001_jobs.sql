-- 0001: the job queue. Applied once, in one transaction, by sy-controller at start.
-- Times are milliseconds since the Unix epoch (UTC).

CREATE TABLE jobs (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused, even after deletes
  name          TEXT    NOT NULL,
  user_name     TEXT    NOT NULL,
  account       TEXT,
  state         TEXT    NOT NULL,
  reason        TEXT    NOT NULL DEFAULT '',
  priority      INTEGER NOT NULL,
  nodes         INTEGER NOT NULL,
  gpus_per_node INTEGER NOT NULL,
  time_limit_s  INTEGER,
  spec_json     TEXT    NOT NULL,                   -- canonical JobSpec (common/job_spec.hpp)
  client_token  TEXT    UNIQUE,                     -- Idempotency-Key: a retried submit finds its job
  submit_ms     INTEGER NOT NULL,
  updated_ms    INTEGER NOT NULL,
  start_ms      INTEGER,
  end_ms        INTEGER,
  exit_code     INTEGER
);

CREATE INDEX jobs_by_state ON jobs (state, id);

-- Every state change, in order: the audit trail `sy show` prints.
CREATE TABLE job_events (
  seq        INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id     INTEGER NOT NULL REFERENCES jobs (id),
  at_ms      INTEGER NOT NULL,
  event      TEXT    NOT NULL,
  from_state TEXT,
  to_state   TEXT    NOT NULL,
  reason     TEXT    NOT NULL DEFAULT ''
);

CREATE INDEX job_events_by_job ON job_events (job_id, seq);
