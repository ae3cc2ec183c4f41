CREATE STREAM result AS
SELECT symbol, SUM(qty) / COUNT(*) AS ratio, STDDEV_POP(price) AS sd, VAR_SAMP(price) AS var,
       FIRST_VALUE(price) AS first, LAST_VALUE(price) AS last
FROM trades GROUP BY symbol HAVING COUNT(*) > 1 EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
