CREATE STREAM result AS
SELECT symbol, price, qty, note FROM prices WHERE qty > 1
WITH ('prices.type' = 'file_source', 'prices.path' = 'prices.csv', 'prices.format' = 'csv', 'prices.schema' = 'symbol STRING, price DOUBLE, qty BIGINT, note STRING', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
