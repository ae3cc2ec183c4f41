-- @name: state_backends
-- @description: The lab's state level: COUNT, SUM, MIN and MAX per key over ${KEYS} keys
-- (50 million by default), EMIT FINAL. sluice-bench runs it twice, with ${STATE_BACKEND} set to
-- memory and to rocksdb (the second in a memory cgroup capped well below the first's peak); see
-- README.md beside this file.
CREATE STREAM per_key AS
SELECT k, COUNT(*) AS n, SUM(q) AS total, MIN(q) AS low, MAX(q) AS high
FROM events
GROUP BY k
EMIT FINAL
WITH (
  'events.type' = 'file_source',
  'events.path' = '${DATA:events.jsonl}',
  'events.format' = 'json',
  'events.schema' = 'k BIGINT, q BIGINT',
  'state.backend' = '${STATE_BACKEND:rocksdb}',
  'per_key.type' = 'file_sink',
  'per_key.path' = '${OUTPUT:per_key.jsonl}'
);
