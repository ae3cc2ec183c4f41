CREATE STREAM result AS
SELECT symbol, COUNT(*) AS n, SUM(qty) AS qty, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high
FROM trades GROUP BY symbol EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
