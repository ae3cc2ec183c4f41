CREATE STREAM result AS
SELECT k, COUNT(*) AS n FROM events GROUP BY k EMIT FINAL
WITH ('events.type' = 'file_source', 'events.path' = 'events.json', 'events.format' = 'json', 'events.schema' = 'k STRING, ts TIMESTAMP', 'events.event.time.field' = 'ts', 'state.ttl' = '10s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
