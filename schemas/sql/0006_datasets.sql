-- 0006: the dataset registry. A dataset is a name for a source on shared storage; each scan that
-- finds different content adds a version (its manifest: every file's path, size, mtime, digest).
CREATE TABLE datasets (
  name            TEXT    PRIMARY KEY,
  source          TEXT    NOT NULL,              -- /path or file:///path (plugins/staging)
  version         TEXT    NOT NULL,              -- the current version
  added_by        TEXT    NOT NULL,
  created_ms      INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL
);
CREATE TABLE dataset_versions (
  name            TEXT    NOT NULL REFERENCES datasets (name),
  version         TEXT    NOT NULL,              -- common/dataset/manifest.hpp: Manifest::version
  bytes           INTEGER NOT NULL,
  files           INTEGER NOT NULL,
  manifest_json   TEXT    NOT NULL,
  created_ms      INTEGER NOT NULL,
  PRIMARY KEY (name, version)
);
