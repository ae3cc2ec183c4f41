CREATE STREAM result AS
SELECT COUNT(*) AS n, COUNT(price) AS priced, COUNT(DISTINCT symbol) AS symbols, SUM(price * qty) AS notional
FROM trades EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
