CREATE STREAM result AS
SELECT COUNT(*) AS n, SUM(qty) AS qty, _window_start FROM sparse_trades WINDOW TUMBLING(1m)
WITH ('sparse_trades.type' = 'file_source', 'sparse_trades.path' = 'sparse_trades.json', 'sparse_trades.format' = 'json', 'sparse_trades.schema' = 'qty BIGINT, ts TIMESTAMP', 'sparse_trades.event.time.field' = 'ts', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
