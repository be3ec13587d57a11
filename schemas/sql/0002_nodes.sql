-- 0002: nodes registered by agents, with the topology each reported.
CREATE TABLE nodes (
  name            TEXT    PRIMARY KEY,
  alive           INTEGER NOT NULL,              -- 0 once heartbeats stopped (DOWN)
  drain           INTEGER NOT NULL DEFAULT 0,    -- 1: no new jobs (DRAINING)
  reason          TEXT    NOT NULL DEFAULT '',
  gpus            INTEGER NOT NULL,
  topology_json   TEXT    NOT NULL,              -- schemas/topology.schema.json, as JSON
  agent_version   TEXT    NOT NULL DEFAULT '',
  registered_ms   INTEGER NOT NULL,
  updated_ms      INTEGER NOT NULL
);
