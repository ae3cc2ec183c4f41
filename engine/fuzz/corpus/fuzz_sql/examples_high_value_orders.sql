-- @name: high_value_orders
-- @description: the select and filter of the lab's Scenario 0: one output row per order over 100.
CREATE STREAM high_value_orders AS
SELECT order_id,
       customer_id,
       order_date,
       total_amount,
       CASE WHEN total_amount >= 1000 THEN 'large' ELSE 'medium' END AS size
FROM orders
WHERE total_amount > 100
EMIT CHANGES
WITH (
  'orders.type' = 'file_source',
  'orders.path' = '${ORDERS:examples/orders.jsonl}',
  'orders.format' = 'json',
  'event.time.field' = 'order_date',
  'event.time.format' = 'iso8601',
  'high_value_orders.type' = 'stdout_sink'
);
