-- 0009: fair share without reading history. Ended use per account and per user, decayed as of
-- as_of_ms (controller/scheduler/fair_share.hpp), folded in by the same transaction that ends
-- each run. sy-controller fills it from the jobs table the first time it finds it empty.
CREATE TABLE fair_share_ledger (
  kind        TEXT    NOT NULL CHECK (kind IN ('account', 'user')),
  name        TEXT    NOT NULL,
  gpu_seconds REAL    NOT NULL,
  as_of_ms    INTEGER NOT NULL,
  PRIMARY KEY (kind, name)
) WITHOUT ROWID;

-- That first fill, and retention, find jobs by when they ran.
CREATE INDEX jobs_by_start ON jobs (start_ms) WHERE start_ms IS NOT NULL;
CREATE INDEX jobs_by_end ON jobs (end_ms) WHERE end_ms IS NOT NULL;
