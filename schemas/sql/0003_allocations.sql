-- 0003: where placed jobs run. A job holds its allocations from the scheduling decision
-- (STAGING) until it ends; placement_json keeps the decision's explanation for `sy show`.
ALTER TABLE jobs ADD COLUMN placement_json TEXT;

CREATE TABLE allocations (
  job_id  INTEGER NOT NULL REFERENCES jobs (id),
  node    TEXT    NOT NULL,
  gpus    INTEGER NOT NULL,   -- bit mask of GPU indices on the node
  end_ms  INTEGER NOT NULL,   -- start + time limit: when the GPUs are free at the latest
  PRIMARY KEY (job_id, node)
);

CREATE INDEX allocations_by_node ON allocations (node);
