CREATE STREAM result AS
SELECT symbol FROM trades ORDER BY price
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
