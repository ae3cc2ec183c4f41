CREATE STREAM result AS
SELECT DISTINCT symbol FROM trades
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
