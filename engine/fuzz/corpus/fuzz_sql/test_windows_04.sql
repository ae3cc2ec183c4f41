CREATE STREAM result AS
SELECT COUNT(*) AS n, _window_start FROM trades WHERE symbol = 'B' WINDOW TUMBLING(1m) EMIT CHANGES
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'trader STRING, symbol STRING, qty BIGINT, ts TIMESTAMP', 'trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
