-- @name: s5_long_keys
-- @description: Scenario 2's five aggregations per trader over 32..48-byte trader ids (some
-- multi-byte UTF-8), more than 1,000,000 of them, through the keyed exchange.
-- Without a window the default is EMIT CHANGES: each batch emits the updated row of every key
-- it touched; the last row per key is the exact aggregate.
-- The source is NOT declared partitioned by trader_id (the lab splits it by symbol): on several
-- workers every row goes through the keyed exchange to the worker that owns its trader_id.
-- The data profile and the commands to generate it and run this job by hand are in
-- README.md beside this file; `make bench` runs it through sluice-bench.
CREATE STREAM long_key_volume AS
SELECT trader_id, COUNT(*) AS trades, SUM(quantity) AS volume, AVG(price) AS avg_price,
       MIN(price) AS low, MAX(price) AS high
FROM trades
GROUP BY trader_id
WITH (
  'trades.type' = 'file_source',
  'trades.path' = '${TRADES:trades.jsonl}',
  'trades.format' = 'json',
  'trades.schema' = 'trade_id BIGINT, trader_id STRING, symbol STRING, category STRING, price DOUBLE, quantity BIGINT, side STRING, venue STRING, trade_time TIMESTAMP',
  'event.time.field' = 'trade_time',
  'watermark.strategy' = 'bounded_out_of_orderness',
  'watermark.max_out_of_orderness' = '2s',
  'long_key_volume.type' = 'file_sink',
  'long_key_volume.path' = '${OUTPUT:long_key_volume.jsonl}'
);
