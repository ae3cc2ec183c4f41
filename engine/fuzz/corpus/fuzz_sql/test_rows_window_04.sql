CREATE STREAM result AS
SELECT symbol, price, ROW_NUMBER() OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS n,
       SUM(price) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS pair
FROM ticks
WITH ('ticks.type' = 'file_source', 'ticks.path' = 'ticks.json', 'ticks.format' = 'json', 'ticks.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
