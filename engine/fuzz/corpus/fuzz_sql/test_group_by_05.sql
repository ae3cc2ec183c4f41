CREATE STREAM result AS
SELECT qty % 2 AS parity, COUNT(*) AS n FROM trades WHERE qty IS NOT NULL GROUP BY qty % 2 EMIT FINAL
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, qty BIGINT, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
