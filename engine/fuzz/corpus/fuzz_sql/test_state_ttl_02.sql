CREATE STREAM result AS
SELECT k, ROW_NUMBER() OVER (PARTITION BY k ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS n FROM events
WITH ('events.type' = 'file_source', 'events.path' = 'events.json', 'events.format' = 'json', 'events.schema' = 'k STRING, ts TIMESTAMP', 'events.event.time.field' = 'ts', 'state.ttl' = '10s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
