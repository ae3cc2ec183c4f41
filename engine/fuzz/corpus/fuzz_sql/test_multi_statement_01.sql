CREATE STREAM big AS SELECT id, amount * 2 AS doubled FROM orders WHERE amount > 100
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json');
CREATE STREAM bigger AS SELECT id, doubled + 1 AS plus_one FROM big WHERE doubled > 400
WITH ('bigger.type' = 'file_sink', 'bigger.path' = 'out.jsonl')