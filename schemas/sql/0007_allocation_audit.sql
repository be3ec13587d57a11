-- 0007: every allocation made and released, in commit order, written by triggers in the same
-- transaction as the change itself: a record of which GPUs each job held, to check that none
-- was ever held twice (tests/chaos) and to answer "who had GPU 3 of node07 at noon".
CREATE TABLE allocation_audit (
  seq     INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id  INTEGER NOT NULL,
  node    TEXT    NOT NULL,
  gpus    INTEGER NOT NULL,   -- bit mask of GPU indices on the node
  event   TEXT    NOT NULL CHECK (event IN ('allocate', 'release')),
  at_ms   INTEGER NOT NULL
);

CREATE TRIGGER allocation_audit_allocate AFTER INSERT ON allocations
BEGIN
  INSERT INTO allocation_audit (job_id, node, gpus, event, at_ms)
  VALUES (NEW.job_id, NEW.node, NEW.gpus, 'allocate',
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;

CREATE TRIGGER allocation_audit_release AFTER DELETE ON allocations
BEGIN
  INSERT INTO allocation_audit (job_id, node, gpus, event, at_ms)
  VALUES (OLD.job_id, OLD.node, OLD.gpus, 'release',
          CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END;
