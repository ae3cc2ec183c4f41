CREATE STREAM result AS
SELECT symbol, SUM(price) AS price_sum, SUM(qty) AS qty_sum FROM trades GROUP BY symbol EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
