CREATE STREAM result AS
SELECT COUNT(*) AS n, _window_start FROM lateness WINDOW TUMBLING(1m) EMIT FINAL
WITH ('lateness.type' = 'file_source', 'lateness.path' = 'lateness.json', 'lateness.format' = 'json', 'lateness.schema' = 'symbol STRING, ts TIMESTAMP', 'lateness.event.time.field' = 'ts', 'late.data.allowed_lateness' = '30s', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
