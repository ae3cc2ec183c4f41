CREATE STREAM result AS
SELECT id, UPPER(customer) AS who, COALESCE(amount, 0) AS amount FROM orders
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json', 'orders.format' = 'json', 'orders.schema' = 'id BIGINT, customer STRING, amount DOUBLE, paid BOOLEAN', 'result.type' = 'file_sink', 'result.path' = 'out.jsonl')
