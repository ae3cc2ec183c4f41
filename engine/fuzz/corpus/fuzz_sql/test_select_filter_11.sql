CREATE STREAM result AS
SELECT id, CASE WHEN amount >= 100 THEN 'big' WHEN amount < 100 THEN 'small' END AS size FROM orders
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json', 'orders.format' = 'json', 'orders.schema' = 'id BIGINT, customer STRING, amount DOUBLE, paid BOOLEAN', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
