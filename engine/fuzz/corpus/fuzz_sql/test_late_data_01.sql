CREATE STREAM result AS
SELECT COUNT(*) AS n, _window_start FROM trades WINDOW TUMBLING(1m) EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, ts TIMESTAMP', 'trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
