CREATE STREAM result AS
SELECT id FROM orders LIMIT 2
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json', 'orders.format' = 'json', 'orders.schema' = 'id BIGINT, customer STRING, amount DOUBLE, paid BOOLEAN', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
