CREATE STREAM result AS
SELECT trader, symbol, COUNT(*) AS n, SUM(qty) AS qty, _window_start, _window_end
FROM trades GROUP BY trader, symbol WINDOW TUMBLING (ts, INTERVAL '1' MINUTE) EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'trader STRING, symbol STRING, qty BIGINT, ts TIMESTAMP', 'trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
