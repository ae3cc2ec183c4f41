-- @name: s0_select_filter
-- @description: Scenario 0: a stateless select and filter over orders (a baseline of ours; the brief has no
-- select/filter scenario).
-- The data profile and the commands to generate it and run this job by hand are in
-- README.md beside this file; `make bench` runs it through sluice-bench.
CREATE STREAM high_value AS
SELECT order_id, customer_id, order_date, total_amount
FROM orders
WHERE total_amount > 100
WITH (
  'orders.type' = 'file_source',
  'orders.path' = '${ORDERS:orders.jsonl}',
  'orders.format' = 'json',
  'orders.schema' = 'order_id BIGINT, customer_id STRING, order_date TIMESTAMP, total_amount DOUBLE',
  'event.time.field' = 'order_date',
  'high_value.type' = 'file_sink',
  'high_value.path' = '${OUTPUT:high_value.jsonl}'
);
