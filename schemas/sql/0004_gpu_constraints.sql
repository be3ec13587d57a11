-- 0004: what kind of GPU a job asks for, as plain columns the scheduler reads without
-- parsing the spec.
ALTER TABLE jobs ADD COLUMN gpu_model TEXT;
ALTER TABLE jobs ADD COLUMN gpu_memory_mib INTEGER;
