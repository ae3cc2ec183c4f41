CREATE STREAM result AS
SELECT symbol, price, LAG(price) OVER (PARTITION BY symbol ORDER BY ts ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS previous
FROM ticks_dead
WITH ('ticks_dead.type' = 'file_source', 'ticks_dead.path' = 'ticks_dead.json', 'ticks_dead.format' = 'json', 'ticks_dead.schema' = 'symbol STRING, price DOUBLE, ts TIMESTAMP', 'late.data.strategy' = 'dead_letter', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
