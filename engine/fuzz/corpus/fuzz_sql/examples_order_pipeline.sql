-- @name: order_pipeline
-- @description: Two statements: the second reads the stream the first creates, and the
-- results go to a CSV file.
CREATE STREAM enriched_orders AS
SELECT order_id,
       UPPER(customer_id) AS customer,
       EXTRACT(HOUR FROM _event_time) AS hour_of_day,
       ROUND(total_amount * 1.2, 2) AS amount_with_tax
FROM orders
WITH (
  'orders.type' = 'file_source',
  'orders.path' = '${ORDERS:examples/orders.jsonl}',
  'event.time.field' = 'order_date'
);

CREATE STREAM taxed_large_orders AS
SELECT order_id, customer, amount_with_tax
FROM enriched_orders
WHERE amount_with_tax BETWEEN 100 AND 2000
WITH (
  'taxed_large_orders.type' = 'file_sink',
  'taxed_large_orders.path' = '${OUT:/tmp/taxed_large_orders.csv}',
  'taxed_large_orders.format' = 'csv'
);
