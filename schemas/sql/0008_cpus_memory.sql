-- 0008: the CPUs and memory a job asks for per GPU, as plain columns the scheduler reads, and
-- what each allocation holds of its node's CPUs and memory besides GPUs. Jobs submitted before
-- this migration keep their CPUs per GPU (from the stored spec) and ask for no set memory.
ALTER TABLE jobs ADD COLUMN cpus_per_gpu INTEGER NOT NULL DEFAULT 1;
ALTER TABLE jobs ADD COLUMN memory_per_gpu_mib INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET cpus_per_gpu = COALESCE(json_extract(spec_json, '$.resources.cpus_per_gpu'), 1);

ALTER TABLE allocations ADD COLUMN cpus INTEGER NOT NULL DEFAULT 0;
ALTER TABLE allocations ADD COLUMN memory_mib INTEGER NOT NULL DEFAULT 0;
