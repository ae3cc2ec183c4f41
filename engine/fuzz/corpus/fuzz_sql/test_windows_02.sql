CREATE STREAM result AS
SELECT COUNT(*) AS n, TUMBLE_START(ts) AS ws, TUMBLE_END(ts) AS we FROM trades WINDOW TUMBLING(1m)
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'trader STRING, symbol STRING, qty BIGINT, ts TIMESTAMP', 'trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
