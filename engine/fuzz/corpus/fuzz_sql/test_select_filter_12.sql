CREATE STREAM result AS
SELECT 1 AS one, 'x' AS text, NULL AS nothing, 2.5 AS half FROM orders LIMIT 1
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json', 'orders.format' = 'json', 'orders.schema' = 'id BIGINT, customer STRING, amount DOUBLE, paid BOOLEAN', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
