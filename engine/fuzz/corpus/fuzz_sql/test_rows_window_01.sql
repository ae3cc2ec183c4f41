CREATE STREAM result AS
SELECT symbol, price, AVG(price) OVER (ROWS WINDOW BUFFER 3 ROWS PARTITION BY symbol ORDER BY ts) AS avg3,
       MIN(price) OVER (ROWS WINDOW BUFFER 3 ROWS PARTITION BY symbol ORDER BY ts) AS min3,
       MAX(price) OVER (ROWS WINDOW BUFFER 3 ROWS PARTITION BY symbol ORDER BY ts) AS max3
FROM trades
WITH ('trades.type' = 'file_source', 'trades.path' = 'trades.json', 'trades.format' = 'json', 'trades.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
