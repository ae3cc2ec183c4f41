CREATE STREAM result AS
SELECT id, amount FROM orders
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json', 'orders.format' = 'json', 'orders.schema' = 'id BIGINT, amount DOUBLE', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
