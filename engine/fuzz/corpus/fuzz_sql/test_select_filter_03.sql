CREATE STREAM result AS
SELECT id AS order_id, amount * 2 AS doubled, id + 1 FROM orders WHERE id <= 2
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json', 'orders.format' = 'json', 'orders.schema' = 'id BIGINT, customer STRING, amount DOUBLE, paid BOOLEAN', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
