CREATE STREAM result AS
SELECT COUNT(*) AS n, _window_start FROM dead WINDOW TUMBLING(1m) EMIT FINAL
WITH ('dead.type' = 'file_source', 'dead.path' = 'dead.json', 'dead.format' = 'json', 'dead.schema' = 'symbol STRING, ts TIMESTAMP', 'dead.event.time.field' = 'ts', 'late.data.strategy' = 'dead_letter', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
