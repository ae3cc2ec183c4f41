CREATE STREAM result AS
SELECT *, price - AVG(price * 1) OVER (ROWS WINDOW BUFFER 2 ROWS PARTITION BY UPPER(symbol)) AS delta
FROM trades WHERE symbol = 'B'
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
