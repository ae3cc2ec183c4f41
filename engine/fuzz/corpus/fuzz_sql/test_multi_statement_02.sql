CREATE STREAM all_ids AS SELECT id FROM orders
WITH ('orders.type' = 'file_source', 'orders.path' = 'orders.json',
      'all_ids.type' = 'file_sink', 'all_ids.path' = 'out.jsonl');
CREATE STREAM odd_ids AS SELECT id FROM all_ids WHERE id % 2 = 1
WITH ('odd_ids.type' = 'file_sink', 'odd_ids.path' = 'out.jsonl.odd')