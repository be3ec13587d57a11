-- 0005: what decides whether and where a job may start, beyond its GPUs, as plain columns the
-- scheduler reads without parsing the spec. Lists are comma-separated, sorted where order does
-- not matter.
ALTER TABLE jobs ADD COLUMN features TEXT NOT NULL DEFAULT '';   -- node features it needs
ALTER TABLE jobs ADD COLUMN datasets TEXT NOT NULL DEFAULT '';   -- datasets it reads
ALTER TABLE jobs ADD COLUMN after_ok TEXT NOT NULL DEFAULT '';   -- job ids that must complete
ALTER TABLE jobs ADD COLUMN after_any TEXT NOT NULL DEFAULT '';  -- job ids that must end
ALTER TABLE jobs ADD COLUMN begin_ms INTEGER NOT NULL DEFAULT 0; -- not to start before
ALTER TABLE jobs ADD COLUMN every_s INTEGER;                     -- recurring: the period
ALTER TABLE jobs ADD COLUMN array_id INTEGER;                    -- the array's first task
ALTER TABLE jobs ADD COLUMN array_index INTEGER;
ALTER TABLE jobs ADD COLUMN array_limit INTEGER NOT NULL DEFAULT 0;

CREATE INDEX jobs_by_array ON jobs (array_id, array_index) WHERE array_id IS NOT NULL;
