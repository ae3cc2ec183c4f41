CREATE STREAM result AS
SELECT COUNT(*) AS n, SUM(qty) AS qty, _window_start FROM trades WINDOW SLIDING(ts, 2m, 1m)
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'trader STRING, symbol STRING, qty BIGINT, ts TIMESTAMP', 'trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
